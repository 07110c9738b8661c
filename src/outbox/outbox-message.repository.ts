import { Injectable } from '@nestjs/common';
import { EntityManager, SelectQueryBuilder } from 'typeorm';
import { AnyEventEnvelope } from '../event-bus/event-envelope';
import { OutboxMessage } from './outbox-message.entity';

/** Transaction-level advisory lock key ("outbox" in ASCII): one relay at a time per PostgreSQL database. */
export const RELAY_LOCK_KEY = 0x6f7574626f78;

/** What `claimDue` answers when another instance's relay holds the lock. */
export const RELAY_LOCK_TAKEN_ELSEWHERE = Symbol('relay lock taken elsewhere');

/**
 * `claimDue`'s query: the rows `dueQuery` selects, gated by the relay lock
 * and locked. Written out once rather than built per pass by the query
 * builder, whose building and hydration cost more than PostgreSQL's work
 * here, and every event waits for this query before it is published.
 * $1: now, $2: limit, $3: the relay lock key.
 */
const CLAIM_DUE_SQL = `
  SELECT m.seq, m.event_id, m.type, m.aggregate_type, m.aggregate_id, m.envelope, m.created_at, m.published_at,
         m.attempts, m.last_error, m.next_attempt_at
  FROM outbox_messages m
  WHERE (SELECT pg_try_advisory_xact_lock($3))
    AND m.published_at IS NULL
    AND m.next_attempt_at <= $1
    AND NOT EXISTS (
      SELECT 1 FROM outbox_messages earlier
      WHERE earlier.published_at IS NULL
        AND earlier.aggregate_type = m.aggregate_type
        AND earlier.aggregate_id = m.aggregate_id
        AND earlier.seq < m.seq
        AND earlier.next_attempt_at > $1)
  ORDER BY m.seq
  LIMIT $2
  FOR UPDATE OF m SKIP LOCKED`;

/** A row of CLAIM_DUE_SQL as the pg driver gives it (jsonb parsed, timestamptz as Date, bigint as text). */
interface OutboxRow {
  seq: string;
  event_id: string;
  type: string;
  aggregate_type: string;
  aggregate_id: string;
  envelope: AnyEventEnvelope;
  created_at: Date;
  published_at: Date | null;
  attempts: number;
  last_error: string | null;
  next_attempt_at: Date;
}

function fromRow(row: OutboxRow): OutboxMessage {
  return Object.assign(new OutboxMessage(), {
    seq: Number(row.seq),
    eventId: row.event_id,
    type: row.type,
    aggregateType: row.aggregate_type,
    aggregateId: row.aggregate_id,
    envelope: row.envelope,
    createdAt: row.created_at,
    publishedAt: row.published_at,
    attempts: row.attempts,
    lastError: row.last_error,
    nextAttemptAt: row.next_attempt_at,
  });
}

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
   * Asked again in a transaction that holds it, it answers true (the lock is re-entrant).
   */
  async tryTakeRelayLock(tx: EntityManager): Promise<boolean> {
    const [row] = (await tx.query('SELECT pg_try_advisory_xact_lock($1) AS taken', [RELAY_LOCK_KEY])) as Array<{ taken: boolean }>;
    return row?.taken === true;
  }

  /**
   * PostgreSQL, inside the relay's transaction: takes the relay lock (see
   * `tryTakeRelayLock`) and claims the due rows (`FOR UPDATE SKIP LOCKED`) in
   * one round trip, since every event waits for this step before it is
   * published. The lock is taken in an InitPlan that gates the scan, so
   * without it no row is read or locked. Only an empty answer costs more, to
   * tell "nothing due" from "another relay holds the lock": the lock is asked
   * for again, and if it is held now the rows are claimed again, since the
   * other relay may have let go in between, leaving rows that were committed
   * after its claim.
   */
  async claimDue(tx: EntityManager, now: Date, limit: number): Promise<OutboxMessage[] | typeof RELAY_LOCK_TAKEN_ELSEWHERE> {
    const claim = async () => ((await tx.query(CLAIM_DUE_SQL, [now, limit, RELAY_LOCK_KEY])) as OutboxRow[]).map(fromRow);
    const due = await claim();
    if (due.length > 0) return due;
    return (await this.tryTakeRelayLock(tx)) ? claim() : RELAY_LOCK_TAKEN_ELSEWHERE;
  }

  /**
   * Whether any unpublished row is due (PostgreSQL; no lock, one index scan of
   * the pending rows): what a sweep asks before it takes the relay lock. A
   * row held back behind its aggregate's waiting row counts too — a pass
   * then finds nothing to claim, which costs only that pass.
   */
  async anyDue(manager: EntityManager, now: Date): Promise<boolean> {
    const [row] = (await manager.query('SELECT EXISTS (SELECT 1 FROM outbox_messages WHERE published_at IS NULL AND next_attempt_at <= $1) AS due', [
      now,
    ])) as Array<{ due: boolean }>;
    return row?.due === true;
  }

  /** The due rows without locking anything (the embedded database: one process, one relay); see `dueQuery`. */
  findDue(manager: EntityManager, now: Date, limit: number): Promise<OutboxMessage[]> {
    return this.dueQuery(manager, now, limit).getMany();
  }

  /**
   * The oldest unpublished rows that are due, in sequence order (CLAIM_DUE_SQL
   * says the same for PostgreSQL: change both together). A row is held
   * back while an earlier row of its aggregate waits for a retry, so a failing
   * event delays its own aggregate only, and never lets a later one overtake it.
   */
  private dueQuery(manager: EntityManager, now: Date, limit: number): SelectQueryBuilder<OutboxMessage> {
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
    return query
      .where('m.publishedAt IS NULL')
      .andWhere('m.nextAttemptAt <= :now')
      .andWhere(`NOT EXISTS ${earlierWaiting}`)
      .setParameter('now', now)
      .orderBy('m.seq', 'ASC')
      .limit(limit);
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
