import { randomBytes, randomUUID } from 'node:crypto';
import { AnyEventEnvelope } from '../../src/event-bus/event-envelope';
import { InMemoryBroker } from '../../src/event-bus/transports/in-memory-broker';
import { payloads } from '../event-bus/support/payloads';
import { RabbitMqHarness } from '../event-bus/support/transport-harness';
import { createTestDatabase, TestDatabase } from '../support/database';
import { describeWith, ServiceName } from '../support/services';
import { waitFor } from '../support/wait-for';
import { EventRecorder, OutboxApp } from './support/outbox-app';

const AGGREGATES = 8;
const EVENTS_PER_AGGREGATE = 25;

interface SharedBroker {
  readonly broker: InMemoryBroker | 'rabbitmq';
  readonly namespace: string;
  dispose(): Promise<void>;
}

const brokers: Array<[string, ServiceName[], () => SharedBroker]> = [
  [
    'one in-memory broker',
    ['postgres'],
    () => {
      const broker = new InMemoryBroker();
      return { broker, namespace: `two-${randomBytes(4).toString('hex')}`, dispose: async () => broker.dispose() };
    },
  ],
  [
    'RabbitMQ',
    ['postgres', 'rabbitmq'],
    () => {
      // Only for its namespace and its clean-up of what that namespace declared on the broker.
      const harness = new RabbitMqHarness();
      return { broker: 'rabbitmq', namespace: harness.namespace, dispose: () => harness.stopAll() };
    },
  ],
];

/**
 * Two instances on one PostgreSQL database and one broker, both recording
 * and both relaying at once: every event is published exactly once, and the
 * events of each aggregate in the order they were committed.
 */
for (const [label, services, shareBroker] of brokers) {
  describeWith(services, `Outbox with two instances (PostgreSQL, ${label})`, () => {
    let database: TestDatabase;
    let shared: SharedBroker;
    let instances: OutboxApp[] = [];

    beforeAll(async () => {
      database = await createTestDatabase();
      shared = shareBroker();
    });

    afterAll(async () => {
      await Promise.all(instances.map((instance) => instance.close()));
      await shared?.dispose();
      await database?.drop();
    });

    it('publishes each event once, in commit order per aggregate', async () => {
      // Booted together: they also race to migrate the empty database.
      instances = await Promise.all(
        ['a', 'b'].map((name) =>
          OutboxApp.start({
            database: { env: { APPSERVER_DATABASE_URL: database.url }, moduleOptions: {} },
            namespace: shared.namespace,
            broker: shared.broker,
            // Small batches: many passes, so the relays keep contending for the lock.
            outbox: { batchSize: 5 },
            instanceId: `outbox-${name}`,
          }),
        ),
      );
      const recorder = await EventRecorder.on(instances[0].bus, 'app.*');

      // Each aggregate's events are committed one after the other, alternately by each instance; aggregates run side by side.
      const chains = Array.from({ length: AGGREGATES }, async (_, chain) => {
        const appId = randomUUID();
        const recorded: AnyEventEnvelope[] = [];
        for (let step = 0; step < EVENTS_PER_AGGREGATE; step++) {
          const instance = instances[(chain + step) % 2];
          const payload = { ...payloads.appRegistered(`chain-${chain}`), appId, version: `1.0.${step}` };
          recorded.push(await instance.unitOfWork.run((tx) => instance.outbox.record(tx, 'app.registered', payload)));
        }
        return recorded;
      });
      const recordedByAggregate = await Promise.all(chains);
      const recorded = recordedByAggregate.flat();

      await waitFor(() => recorded.every((event) => recorder.has(event.id)), 'every event to arrive', {
        timeoutMs: 30_000,
        describe: () => `${new Set(recorder.ids()).size} of ${recorded.length}`,
      });
      await waitFor(async () => (await instances[1].relay.countPending()) === 0, 'every row to be marked published');
      // Queues are FIFO: once an event published after all the others has arrived, any duplicate would have too.
      const barrier = await instances[1].unitOfWork.run((tx) => instances[1].outbox.record(tx, 'app.registered', payloads.appRegistered('barrier')));
      await waitFor(() => recorder.has(barrier.id), 'the barrier event');

      const duplicates = recorded.filter((event) => recorder.count(event.id) !== 1).map((event) => `${event.id} x${recorder.count(event.id)}`);
      expect(duplicates).toEqual([]);
      expect(recorder.events).toHaveLength(recorded.length + 1);
      for (const events of recordedByAggregate) {
        const aggregateId = events[0].aggregateId;
        const arrived = recorder.events.filter((event) => event.aggregateId === aggregateId).map((event) => event.id);
        expect(arrived).toEqual(events.map((event) => event.id));
      }
    });
  });
}
