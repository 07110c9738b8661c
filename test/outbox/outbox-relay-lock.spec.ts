import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { EntityManager } from 'typeorm';
import { InMemoryBroker } from '../../src/event-bus/transports/in-memory-broker';
import { OutboxMessage } from '../../src/outbox/outbox-message.entity';
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
  let database: DatabaseUnderTest;
  let broker: InMemoryBroker;
  let app: OutboxApp;
  let otherSession: Client;

  beforeAll(async () => {
    database = await createDatabaseUnderTest('postgres');
    broker = new InMemoryBroker();
    app = await OutboxApp.start({ database, namespace: `relay-lock-${randomBytes(3).toString('hex')}`, broker, outbox: { relayEnabled: false } });
    otherSession = new Client({ connectionString: database.env.APPSERVER_DATABASE_URL });
    await otherSession.connect();
  });

  afterAll(async () => {
    await otherSession?.end();
    await app?.close();
    broker?.dispose();
    await database?.dispose();
  });

  beforeEach(() => app.unitOfWork.run((tx) => tx.clear(OutboxMessage)));

  const repository = () => app.app.get(OutboxMessageRepository);
  const recordEvents = async (count: number) => {
    for (let i = 0; i < count; i++) {
      await app.unitOfWork.run((tx) => app.outbox.record(tx, 'app.registered', { ...payloads.appRegistered(`lock-${i}`), appId: randomUUID() }));
    }
  };
  const claimInTransaction = <R>(then: (claimed: Awaited<ReturnType<OutboxMessageRepository['claimDue']>>, tx: EntityManager) => Promise<R>) =>
    app.unitOfWork.run(async (tx) => then(await repository().claimDue(tx, new Date(), 100), tx));
  /** Rows another session can lock right now without waiting. */
  const lockableElsewhere = async () => {
    await otherSession.query('BEGIN');
    try {
      const { rows } = await otherSession.query('SELECT seq FROM outbox_messages FOR UPDATE SKIP LOCKED');
      return rows.length;
    } finally {
      await otherSession.query('ROLLBACK');
    }
  };

  /** Whether another session could take the relay lock right now (it lets go of it at once). */
  const relayLockFreeElsewhere = async () => {
    await otherSession.query('BEGIN');
    try {
      const { rows } = await otherSession.query('SELECT pg_try_advisory_xact_lock($1) AS taken', [RELAY_LOCK_KEY]);
      return rows[0].taken as boolean;
    } finally {
      await otherSession.query('ROLLBACK');
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
    await otherSession.query('BEGIN');
    try {
      const { rows } = await otherSession.query('SELECT pg_try_advisory_xact_lock($1) AS taken', [RELAY_LOCK_KEY]);
      expect(rows[0].taken).toBe(true);
      const locked = await claimInTransaction(async (claimed) => {
        expect(claimed).toBe(RELAY_LOCK_TAKEN_ELSEWHERE);
        // Still inside the claiming transaction: the lock holder's own claim must find every row.
        const { rows: lockable } = await otherSession.query('SELECT seq FROM outbox_messages FOR UPDATE SKIP LOCKED');
        return lockable.length;
      });
      expect(locked).toBe(2);
    } finally {
      await otherSession.query('ROLLBACK');
    }
    const after = await claimInTransaction(async (claimed) => claimed);
    expect(after).not.toBe(RELAY_LOCK_TAKEN_ELSEWHERE);
    expect(after).toHaveLength(2);
  });

  it('claims exactly the rows findDue selects, field for field: none published, none waiting for a retry, none behind a waiting one', async () => {
    const [waitingApp, publishedApp, freeApp] = [randomUUID(), randomUUID(), randomUUID()];
    for (const appId of [waitingApp, waitingApp, publishedApp, publishedApp, freeApp]) {
      await app.unitOfWork.run((tx) => app.outbox.record(tx, 'app.registered', { ...payloads.appRegistered(`claim-${appId}`), appId }));
    }
    const rows = await app.unitOfWork.read((manager) => manager.find(OutboxMessage, { order: { seq: 'ASC' } }));
    const hour = 60 * 60 * 1000;
    await app.unitOfWork.run(async (tx) => {
      await tx.update(OutboxMessage, { seq: rows[0].seq }, { attempts: 1, lastError: 'broker said no', nextAttemptAt: new Date(Date.now() + hour) });
      await tx.update(OutboxMessage, { seq: rows[2].seq }, { publishedAt: new Date() });
    });

    const now = new Date();
    const found = await app.unitOfWork.read((manager) => repository().findDue(manager, now, 100));
    const claimed = await claimInTransaction(async (result) => result);
    // The waiting app's second row stays behind its first; the published row is done; the rest are due.
    expect(found.map((message) => message.seq)).toEqual([rows[3].seq, rows[4].seq]);
    expect(claimed).toEqual(found);
  });

  it('anyDue: true for a due row only — not for published rows nor for rows waiting for a retry', async () => {
    const anyDue = () => app.unitOfWork.read((manager) => repository().anyDue(manager, new Date()));
    expect(await anyDue()).toBe(false);
    await recordEvents(2);
    expect(await anyDue()).toBe(true);
    const [first, second] = await app.unitOfWork.read((manager) => manager.find(OutboxMessage, { order: { seq: 'ASC' } }));
    await app.unitOfWork.run(async (tx) => {
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
  let database: DatabaseUnderTest;
  let broker: InMemoryBroker;
  let app: OutboxApp;
  let otherSession: Client;

  beforeAll(async () => {
    database = await createDatabaseUnderTest('postgres');
    broker = new InMemoryBroker();
    app = await OutboxApp.start({ database, namespace: `relay-sweep-${randomBytes(3).toString('hex')}`, broker, outbox: { sweepIntervalMs: 5 } });
    otherSession = new Client({ connectionString: database.env.APPSERVER_DATABASE_URL });
    await otherSession.connect();
  });

  afterAll(async () => {
    await otherSession?.end();
    await app?.close();
    broker?.dispose();
    await database?.dispose();
  });

  it('never takes the relay lock while nothing is due, over some 100 of its sweeps', async () => {
    const passesBefore = app.relay.passes;
    let refused = 0;
    let attempts = 0;
    // Another relay asks for the lock back to back while this one sweeps every 5 ms.
    while (app.relay.passes - passesBefore < 100) {
      await otherSession.query('BEGIN');
      const { rows } = await otherSession.query('SELECT pg_try_advisory_xact_lock($1) AS taken', [RELAY_LOCK_KEY]);
      await otherSession.query('ROLLBACK');
      attempts++;
      if (!rows[0].taken) refused++;
    }
    expect(attempts).toBeGreaterThan(0);
    expect(refused).toBe(0);
  });
});

