import * as amqplib from 'amqplib';
import { waitFor } from '../support/wait-for';
import { payloads } from './support/payloads';
import { RabbitMqHarness } from './support/transport-harness';
import { describeWith, TEST_RABBITMQ_URL } from '../support/services';

/**
 * A fault only RabbitMQ has: the events exchange deleted under a running bus
 * (an operator, or a broker restart in test mode, where nothing is durable).
 * Deleting an exchange deletes its bindings too, so redeclaring the exchange
 * alone would let the next events go nowhere.
 */
describeWith(['rabbitmq'], 'RabbitMQ transport: the events exchange deleted under a running bus', () => {
  let harness: RabbitMqHarness;

  beforeEach(() => {
    harness = new RabbitMqHarness();
  });

  afterEach(async () => {
    await harness.stopAll();
  });

  it('redeclares the exchange and the bindings, and delivers every event published after the loss', async () => {
    const { bus } = await harness.start();
    const received = new Set<string>();
    await bus.subscribe('app.installed', (event) => void received.add(event.id), { group: 'topology-loss' });
    const before = await bus.publish('app.installed', payloads.appInstalled('before'));
    await waitFor(() => received.has(before.id), 'the event published before the loss');

    const connection = await amqplib.connect(TEST_RABBITMQ_URL);
    try {
      const channel = await connection.createChannel();
      await channel.deleteExchange(`${harness.namespace}.events`);
    } finally {
      await connection.close();
    }
    const after = await Promise.all(Array.from({ length: 20 }, (_, i) => bus.publish('app.installed', payloads.appInstalled(`after-${i}`))));

    await waitFor(() => after.every((event) => received.has(event.id)), 'every event published after the loss', {
      describe: () => `${after.filter((event) => received.has(event.id)).length} of ${after.length} received`,
    });
    expect(bus.health()).toMatchObject({ connected: true, consuming: true });
  });
});
