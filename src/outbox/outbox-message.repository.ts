import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AnyEventEnvelope } from '../event-bus/event-envelope';
import { OutboxMessage } from './outbox-message.entity';

/** Transaction-level advisory lock key ("outbox" in ASCII): one relay at a time per PostgreSQL database. */
const RELAY_LOCK_KEY = 0x6f7574626f78;

/** The outbox table's queries; every method works in the transaction (or manager) it is given. */
@Injectable()
export class OutboxMessageRepository {
  async insert(tx: EntityManager, envelope: AnyEventEnvelope, now: Date): Promise<void> {
    await tx
      .createQueryBuilder()
      .insert()
      .into(OutboxMessage)
      .values({
        eventId: envelope.id,
        type: envelope.type,
        aggregateType: envelope.aggregateType,
        aggregateId: envelope.aggregateId,
        envelope: envelope as never,
        createdAt: now,
        publishedAt: null,
        attempts: 0,
        lastError: null,
        nextAttemptAt: now,
      })
      .updateEntity(false)
      .execute();
  }

  /**
   * Takes the relay lock for the rest of `tx`, or returns false at once if
   * another instance's relay holds it (PostgreSQL only). One relay at a time
   * is what keeps per-aggregate order across instances: two relays working
   * on different rows of one aggregate could publish them out of order.
   */
  async tryTakeRelayLock(tx: EntityManager): Promise<boolean> {
    const [row] = (await tx.query('SELECT pg_try_advisory_xact_lock($1) AS taken', [RELAY_LOCK_KEY])) as Array<{ taken: boolean }>;
    return row?.taken === true;
  }

  /**
   * The oldest unpublished rows that are due, in sequence order. A row is held
   * back while an earlier row of its aggregate waits for a retry, so a failing
   * event delays its own aggregate only, and never lets a later one overtake it.
   * `lockRows` (PostgreSQL, inside the relay's transaction): `FOR UPDATE SKIP LOCKED`.
   */
  findDue(manager: EntityManager, now: Date, limit: number, lockRows: boolean): Promise<OutboxMessage[]> {
    const query = manager.getRepository(OutboxMessage).createQueryBuilder('m');
    const earlierWaiting = query
      .subQuery()
      .select('1')
      .from(OutboxMessage, 'earlier')
      .where('earlier.publishedAt IS NULL')
      .andWhere('earlier.aggregateType = m.aggregateType')
      .andWhere('earlier.aggregateId = m.aggregateId')
      .andWhere('earlier.seq < m.seq')
      .andWhere('earlier.nextAttemptAt > :now')
      .getQuery();
    query
      .where('m.publishedAt IS NULL')
      .andWhere('m.nextAttemptAt <= :now')
      .andWhere(`NOT EXISTS ${earlierWaiting}`)
      .setParameter('now', now)
      .orderBy('m.seq', 'ASC')
      .limit(limit);
    if (lockRows) query.setLock('pessimistic_write').setOnLocked('skip_locked');
    return query.getMany();
  }

  async markPublished(tx: EntityManager, seqs: readonly number[], at: Date): Promise<void> {
    if (seqs.length === 0) return;
    await tx.createQueryBuilder().update(OutboxMessage).set({ publishedAt: at }).where('seq IN (:...seqs)', { seqs }).execute();
  }

  async markFailed(tx: EntityManager, message: OutboxMessage, error: string, retryAt: Date): Promise<void> {
    await tx
      .createQueryBuilder()
      .update(OutboxMessage)
      .set({ attempts: message.attempts + 1, lastError: error.slice(0, 2000), nextAttemptAt: retryAt })
      .where('seq = :seq', { seq: message.seq })
      .execute();
  }

  /** Deletes rows published before `cutoff`; returns how many. */
  async deletePublishedBefore(tx: EntityManager, cutoff: Date): Promise<number> {
    const result = await tx
      .createQueryBuilder()
      .delete()
      .from(OutboxMessage)
      .where('published_at IS NOT NULL AND published_at < :cutoff', { cutoff })
      .execute();
    return result.affected ?? 0;
  }

  /** Rows not yet published (health and tests). */
  countPending(manager: EntityManager): Promise<number> {
    return manager.getRepository(OutboxMessage).createQueryBuilder('m').where('m.publishedAt IS NULL').getCount();
  }
}
