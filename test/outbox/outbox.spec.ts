import { randomUUID } from 'node:crypto';
import { EventValidationError } from '../../src/event-bus/errors';
import { AnyEventEnvelope } from '../../src/event-bus/event-envelope';
import { InMemoryBroker } from '../../src/event-bus/transports/in-memory-broker';
import { InMemoryTransport } from '../../src/event-bus/transports/in-memory.transport';
import { OutboxMessage } from '../../src/outbox/outbox-message.entity';
import { OutboxMessageRepository } from '../../src/outbox/outbox-message.repository';
import { OutboxModuleOptions } from '../../src/outbox/outbox-module.options';
import { payloads } from '../event-bus/support/payloads';
import { createDatabaseUnderTest, DATABASE_KINDS, DatabaseUnderTest } from '../support/database';
import { describeWith } from '../support/services';
import { waitFor } from '../support/wait-for';
import { EventRecorder, OutboxApp } from './support/outbox-app';

const HOUR = 3_600_000;

/**
 * The outbox's guarantees, on PostgreSQL and on the embedded database, with
 * the in-memory bus (the two-instance and RabbitMQ cases have their own suite).
 */
for (const [kind, services] of DATABASE_KINDS) {
  describeWith(services, `Transactional outbox (${kind})`, () => {
    let database: DatabaseUnderTest;
    let broker: InMemoryBroker;
    const apps: OutboxApp[] = [];

    beforeAll(async () => {
      database = await createDatabaseUnderTest(kind);
    });

    afterAll(async () => {
      await database?.dispose();
    });

    beforeEach(() => {
      broker = new InMemoryBroker();
    });

    afterEach(async () => {
      // One at a time: on the embedded database two open instances would each hold their own copy of the file.
      for (const app of apps.splice(0)) await app.close();
      broker.dispose();
    });

    async function start(outbox: OutboxModuleOptions = {}, publishTimeoutMs?: number): Promise<OutboxApp> {
      const app = await OutboxApp.start({ database, namespace: `outbox-${kind}`, broker, outbox, eventBus: { publishTimeoutMs } });
      apps.push(app);
      return app;
    }

    /** Registers an app in its own transaction and returns the envelope recorded. */
    function registerApp(app: OutboxApp, label: string, appId: string = randomUUID(), version = '1.0.0'): Promise<AnyEventEnvelope> {
      const payload = { ...payloads.appRegistered(label), appId, version };
      return app.unitOfWork.run((tx) => app.outbox.record(tx, 'app.registered', payload));
    }

    it('publishes a committed event right after the commit, without waiting for the sweep', async () => {
      const app = await start({ sweepIntervalMs: HOUR });
      const recorder = await EventRecorder.on(app.bus);

      const recorded = await app.context.run({ correlationId: 'request-42' }, () => registerApp(app, 'woken'));

      await waitFor(() => recorder.has(recorded.id), 'the recorded event to be published', { timeoutMs: 5000 });
      const received = recorder.events.find((event) => event.id === recorded.id)!;
      expect(received).toEqual(recorded);
      expect(received.correlationId).toBe('request-42');
      await waitFor(async () => (await app.row(recorded.id))?.publishedAt != null, 'the row to be marked published');
      const row = (await app.row(recorded.id))!;
      expect(row).toMatchObject({ type: 'app.registered', aggregateType: 'app', aggregateId: recorded.aggregateId, attempts: 0, lastError: null });
      expect(row.envelope).toEqual(recorded);
      expect(row.publishedAt!.getTime()).toBeGreaterThanOrEqual(row.createdAt.getTime());
    });

    it('publishes nothing for a change that rolled back', async () => {
      const app = await start();
      const recorder = await EventRecorder.on(app.bus);
      let rolledBack: AnyEventEnvelope | undefined;

      await expect(
        app.unitOfWork.run(async (tx) => {
          rolledBack = await app.outbox.record(tx, 'app.registered', payloads.appRegistered('rolled-back'));
          throw new Error('the change fails after recording its event');
        }),
      ).rejects.toThrow('the change fails');
      // The relay publishes in commit order: once a later event is out, an earlier one would have been too.
      const barrier = await registerApp(app, 'barrier');
      await waitFor(() => recorder.has(barrier.id), 'the barrier event');

      expect(rolledBack).toBeDefined();
      expect(recorder.has(rolledBack!.id)).toBe(false);
      expect(await app.row(rolledBack!.id)).toBeNull();
    });

    it('refuses to record outside a UnitOfWork transaction, and an invalid payload rolls the change back', async () => {
      const app = await start();
      const before = (await app.rows()).length;

      await expect(app.outbox.record(app.dataSource.manager, 'app.registered', payloads.appRegistered('no-tx'))).rejects.toThrow(
        /open UnitOfWork\.run transaction/,
      );
      await expect(
        app.unitOfWork.run(async (tx) => {
          await app.outbox.record(tx, 'app.registered', payloads.appRegistered('valid'));
          await app.outbox.record(tx, 'app.registered', { ...payloads.appRegistered('invalid'), version: 'not-semver' });
        }),
      ).rejects.toBeInstanceOf(EventValidationError);

      expect(await app.rows()).toHaveLength(before);
    });

    it('publishes in commit order across batches, aggregates interleaved', async () => {
      const app = await start({ relayEnabled: false, batchSize: 4 });
      const recorder = await EventRecorder.on(app.bus, 'app.*');
      const aggregates = [randomUUID(), randomUUID(), randomUUID()];
      const recorded: AnyEventEnvelope[] = [];
      for (let step = 0; step < 7; step++) {
        for (const appId of aggregates) recorded.push(await registerApp(app, `order-${step}`, appId, `1.0.${step}`));
      }

      app.relay.start();

      await waitFor(() => recorded.every((event) => recorder.has(event.id)), 'every event to be published', {
        describe: () => `${recorder.events.length} of ${recorded.length}`,
      });
      expect(recorder.ids()).toEqual(recorded.map((event) => event.id));
      await waitFor(async () => (await app.relay.countPending()) === 0, 'no row left unpublished');
    });

    it('retries until the broker accepts, recording attempts and the error, and keeps the order', async () => {
      const app = await start({ retryDelayMs: 20, maxRetryDelayMs: 100 }, 100);
      const recorder = await EventRecorder.on(app.bus, 'app.*');
      const appId = randomUUID();
      // Publishes wait for the reconnection (at least 500 ms away) and give up after 100 ms: the broker is unreachable.
      (app.transport as InMemoryTransport).simulateConnectionLoss();

      const recorded = [await registerApp(app, 'retry', appId, '1.0.0'), await registerApp(app, 'retry', appId, '1.0.1')];

      await waitFor(() => recorded.every((event) => recorder.has(event.id)), 'the events to be published once the broker is back');
      expect(recorder.ids()).toEqual(recorded.map((event) => event.id));
      const first = (await app.row(recorded[0].id))!;
      expect(first.attempts).toBeGreaterThanOrEqual(1);
      expect(first.lastError).toMatch(/PublishTimeoutError: .*not confirmed/);
      await waitFor(async () => (await app.row(recorded[1].id))?.publishedAt != null, 'the rows to be marked published');
    });

    it('holds back only the aggregate of an event that cannot be published, until it is gone', async () => {
      // The culprit's retry is seconds away: while it waits, only the per-aggregate rule keeps its successor back.
      const app = await start({ retryDelayMs: 10_000, maxRetryDelayMs: 20_000 });
      const recorder = await EventRecorder.on(app.bus, 'app.*');
      const blocked = randomUUID();
      // An event the catalog refuses (as after an incompatible change of its payload class), written straight into the table.
      const poison = app.bus.createEnvelope('app.registered', { ...payloads.appRegistered('poison'), appId: blocked });
      const repository = app.app.get(OutboxMessageRepository);
      await app.unitOfWork.run((tx) => repository.insert(tx, { ...poison, data: { ...poison.data, version: 'x' } }, new Date()));

      const heldBack = await registerApp(app, 'held-back', blocked, '1.0.1');
      const other = await registerApp(app, 'other');
      await waitFor(() => recorder.has(other.id), 'the event of another aggregate');
      const barrier = await registerApp(app, 'barrier');
      await waitFor(() => recorder.has(barrier.id), 'a later event of another aggregate');

      expect(recorder.has(heldBack.id)).toBe(false);
      expect(recorder.has(poison.id)).toBe(false);
      expect((await app.row(heldBack.id))!.publishedAt).toBeNull();
      const poisonRow = (await app.row(poison.id))!;
      expect(poisonRow.attempts).toBeGreaterThanOrEqual(1);
      expect(poisonRow.lastError).toMatch(/EventValidationError: .*version/);

      // An operator removes the culprit: the aggregate goes on.
      await app.unitOfWork.run((tx) => tx.delete(OutboxMessage, { eventId: poison.id }));
      app.relay.wake();
      await waitFor(() => recorder.has(heldBack.id), 'the held-back event once the culprit is gone');
    });

    it('deletes published rows after the retention period, and never an unpublished one', async () => {
      const app = await start({ retentionMs: 300, sweepIntervalMs: 50 });
      // Not due for an hour: stays unpublished throughout.
      const waiting = app.bus.createEnvelope('app.registered', payloads.appRegistered('waiting'));
      const repository = app.app.get(OutboxMessageRepository);
      // In one transaction: committed due, the row could be published (and purged) by a sweep in between.
      await app.unitOfWork.run(async (tx) => {
        await repository.insert(tx, waiting, new Date());
        await tx.update(OutboxMessage, { eventId: waiting.id }, { nextAttemptAt: new Date(Date.now() + HOUR) });
      });

      const published = await registerApp(app, 'purged');
      await waitFor(async () => (await app.row(published.id))?.publishedAt != null, 'the row to be published');
      await waitFor(async () => (await app.row(published.id)) === null, 'the published row to be deleted');

      expect((await app.row(waiting.id))?.publishedAt).toBeNull();
      await app.unitOfWork.run((tx) => tx.delete(OutboxMessage, { eventId: waiting.id }));
    });

    it('finishes the batch in flight when the application closes', async () => {
      const app = await start({}, 10_000);
      (app.transport as InMemoryTransport).simulateConnectionLoss();
      const recorded = await registerApp(app, 'in-flight');
      await waitFor(() => app.relay.publishing > 0, 'the relay to be publishing');

      apps.splice(apps.indexOf(app), 1);
      await app.close();

      const reopened = await start({ relayEnabled: false });
      const row = await reopened.row(recorded.id);
      expect(row?.publishedAt).toBeInstanceOf(Date);
      expect(row?.attempts).toBe(0);
    });
  });
}
