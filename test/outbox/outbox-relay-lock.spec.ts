import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { EntityManager } from 'typeorm';
import { InMemoryBroker } from '../../src/event-bus/transports/in-memory-broker';
import { OutboxMessage } from '../../src/outbox/outbox-message.entity';
import { OutboxModuleOptions } from '../../src/outbox/outbox-module.options';
import { OutboxMessageRepository, RELAY_LOCK_KEY, RELAY_LOCK_TAKEN_ELSEWHERE } from '../../src/outbox/outbox-message.repository';
import { payloads } from '../event-bus/support/payloads';
import { createDatabaseUnderTest, DatabaseUnderTest } from '../support/database';
import { describeWith } from '../support/services';
import { OutboxApp } from './support/outbox-app';

/**
 * `claimDue` takes the relay lock and claims the due rows in one round trip.
 * What must hold: rows only ever come back with the lock held; without the
 * lock no row is locked (the relay holding it must not find rows skipped);
 * and an empty answer says whether another relay holds the lock. The relay is
 * off here: the test plays both relays, with a second PostgreSQL session.
 */
describeWith(['postgres'], 'OutboxMessageRepository.claimDue (PostgreSQL)', () => {
  const the = outboxAndOtherSession('relay-lock', { relayEnabled: false });

  beforeEach(() => the.app.unitOfWork.run((tx) => tx.clear(OutboxMessage)));

  const repository = () => the.app.app.get(OutboxMessageRepository);
  const recordEvents = async (count: number) => {
    for (let i = 0; i < count; i++) {
      await the.app.unitOfWork.run((tx) => the.app.outbox.record(tx, 'app.registered', { ...payloads.appRegistered(`lock-${i}`), appId: randomUUID() }));
    }
  };
  const claimInTransaction = <R>(then: (claimed: Awaited<ReturnType<OutboxMessageRepository['claimDue']>>, tx: EntityManager) => Promise<R>) =>
    the.app.unitOfWork.run(async (tx) => then(await repository().claimDue(tx, new Date(), 100), tx));
  /** Rows another session can lock right now without waiting. */
  const lockableElsewhere = async () => {
    await the.otherSession.query('BEGIN');
    try {
      const { rows } = await the.otherSession.query('SELECT seq FROM outbox_messages FOR UPDATE SKIP LOCKED');
      return rows.length;
    } finally {
      await the.otherSession.query('ROLLBACK');
    }
  };

  /** Whether another session could take the relay lock right now (it lets go of it at once). */
  const relayLockFreeElsewhere = async () => {
    await the.otherSession.query('BEGIN');
    try {
      const { rows } = await the.otherSession.query('SELECT pg_try_advisory_xact_lock($1) AS taken', [RELAY_LOCK_KEY]);
      return rows[0].taken as boolean;
    } finally {
      await the.otherSession.query('ROLLBACK');
    }
  };

  it('claims the due rows in order and holds the relay lock until its transaction ends', async () => {
    await recordEvents(3);
    const seqs = await claimInTransaction(async (claimed) => {
      if (claimed === RELAY_LOCK_TAKEN_ELSEWHERE) throw new Error('the lock was free');
      expect(await relayLockFreeElsewhere()).toBe(false);
      expect(await lockableElsewhere()).toBe(0);
      return claimed.map((message) => Number(message.seq));
    });
    expect(seqs).toHaveLength(3);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(await lockableElsewhere()).toBe(3);
    expect(await relayLockFreeElsewhere()).toBe(true);
  });

  it('answers "taken elsewhere" while another relay holds the lock, and locks none of the rows meanwhile', async () => {
    await recordEvents(2);
    await the.otherSession.query('BEGIN');
    try {
      const { rows } = await the.otherSession.query('SELECT pg_try_advisory_xact_lock($1) AS taken', [RELAY_LOCK_KEY]);
      expect(rows[0].taken).toBe(true);
      const locked = await claimInTransaction(async (claimed) => {
        expect(claimed).toBe(RELAY_LOCK_TAKEN_ELSEWHERE);
        // Still inside the claiming transaction: the lock holder's own claim must find every row.
        const { rows: lockable } = await the.otherSession.query('SELECT seq FROM outbox_messages FOR UPDATE SKIP LOCKED');
        return lockable.length;
      });
      expect(locked).toBe(2);
    } finally {
      await the.otherSession.query('ROLLBACK');
    }
    const after = await claimInTransaction(async (claimed) => claimed);
    expect(after).not.toBe(RELAY_LOCK_TAKEN_ELSEWHERE);
    expect(after).toHaveLength(2);
  });

  it('claims exactly the rows findDue selects, field for field: none published, none waiting for a retry, none behind a waiting one', async () => {
    const [waitingApp, publishedApp, freeApp] = [randomUUID(), randomUUID(), randomUUID()];
    for (const appId of [waitingApp, waitingApp, publishedApp, publishedApp, freeApp]) {
      await the.app.unitOfWork.run((tx) => the.app.outbox.record(tx, 'app.registered', { ...payloads.appRegistered(`claim-${appId}`), appId }));
    }
    const rows = await the.app.unitOfWork.read((manager) => manager.find(OutboxMessage, { order: { seq: 'ASC' } }));
    const hour = 60 * 60 * 1000;
    await the.app.unitOfWork.run(async (tx) => {
      await tx.update(OutboxMessage, { seq: rows[0].seq }, { attempts: 1, lastError: 'broker said no', nextAttemptAt: new Date(Date.now() + hour) });
      await tx.update(OutboxMessage, { seq: rows[2].seq }, { publishedAt: new Date() });
    });

    const now = new Date();
    const found = await the.app.unitOfWork.read((manager) => repository().findDue(manager, now, 100));
    const claimed = await claimInTransaction(async (result) => result);
    // The waiting app's second row stays behind its first; the published row is done; the rest are due.
    expect(found.map((message) => message.seq)).toEqual([rows[3].seq, rows[4].seq]);
    expect(claimed).toEqual(found);
  });

  it('anyDue: true for a due row only — not for published rows nor for rows waiting for a retry', async () => {
    const anyDue = () => the.app.unitOfWork.read((manager) => repository().anyDue(manager, new Date()));
    expect(await anyDue()).toBe(false);
    await recordEvents(2);
    expect(await anyDue()).toBe(true);
    const [first, second] = await the.app.unitOfWork.read((manager) => manager.find(OutboxMessage, { order: { seq: 'ASC' } }));
    await the.app.unitOfWork.run(async (tx) => {
      await tx.update(OutboxMessage, { seq: first.seq }, { publishedAt: new Date() });
      await tx.update(OutboxMessage, { seq: second.seq }, { nextAttemptAt: new Date(Date.now() + 60 * 60 * 1000) });
    });
    expect(await anyDue()).toBe(false);
  });

  it('answers an empty claim, not "taken elsewhere", when the lock is free and nothing is due', async () => {
    const claimed = await claimInTransaction(async (result) => result);
    expect(claimed).toEqual([]);
  });
});

/**
 * A relay that sweeps with nothing due leaves the lock alone, so it never
 * holds up another instance's relay, which would back off for 10 ms or more
 * with a freshly committed event in hand.
 */
describeWith(['postgres'], 'OutboxRelay sweeping an empty outbox (PostgreSQL)', () => {
  const the = outboxAndOtherSession('relay-sweep', { sweepIntervalMs: 5 });

  it('never takes the relay lock while nothing is due, over some 100 of its sweeps', async () => {
    const passesBefore = the.app.relay.passes;
    let refused = 0;
    let attempts = 0;
    // Another relay asks for the lock back to back while this one sweeps every 5 ms.
    while (the.app.relay.passes - passesBefore < 100) {
      await the.otherSession.query('BEGIN');
      const { rows } = await the.otherSession.query('SELECT pg_try_advisory_xact_lock($1) AS taken', [RELAY_LOCK_KEY]);
      await the.otherSession.query('ROLLBACK');
      attempts++;
      if (!rows[0].taken) refused++;
    }
    expect(attempts).toBeGreaterThan(0);
    expect(refused).toBe(0);
  });
});

/**
 * An OutboxApp on a PostgreSQL database of its own, started before the suite
 * and closed after it, and a second PostgreSQL session that plays another
 * instance's relay.
 */
function outboxAndOtherSession(namespace: string, outbox: OutboxModuleOptions) {
  const the = {} as { database: DatabaseUnderTest; broker: InMemoryBroker; app: OutboxApp; otherSession: Client };

  beforeAll(async () => {
    the.database = await createDatabaseUnderTest('postgres');
    the.broker = new InMemoryBroker();
    the.app = await OutboxApp.start({ database: the.database, namespace: `${namespace}-${randomBytes(3).toString('hex')}`, broker: the.broker, outbox });
    the.otherSession = new Client({ connectionString: the.database.env.APPSERVER_DATABASE_URL });
    await the.otherSession.connect();
  });

  afterAll(async () => {
    await the.otherSession?.end();
    await the.app?.close();
    the.broker?.dispose();
    await the.database?.dispose();
  });

  return the;
}
