import { EventEnvelope } from '../event-envelope';
import { outboundMessage, QueueSpec } from '../event-transport';
import { InMemoryBroker } from './in-memory-broker';
import { InMemoryTransport } from './in-memory.transport';

const spec: QueueSpec = {
  name: 'ns.group.catch-up',
  bindings: ['app.installed'],
  durable: true,
  autoDelete: false,
  prefetch: 100,
  retryLevels: 0,
  deadLetterQueue: 'ns.group.catch-up.dead',
};

const envelope = (seq: number) => ({ id: `e-${seq}`, type: 'app.installed' }) as unknown as EventEnvelope;

describe('InMemoryTransport', () => {
  it('lets consumers catch up with a publisher that only ever awaits its publishes, so queues stay short', async () => {
    const broker = new InMemoryBroker();
    const transport = new InMemoryTransport(broker, 'ns.events', 1_000, true);
    let handled = 0;
    await transport.consume(spec, (_message, settlement) => {
      handled++;
      settlement.ack();
    });
    let deepest = 0;

    // 20,000 messages in batches of 100, each batch awaited: only microtasks between them.
    for (let batch = 0; batch < 200; batch++) {
      await transport.publish(Array.from({ length: 100 }, (_, i) => outboundMessage(envelope(batch * 100 + i))));
      deepest = Math.max(deepest, broker.depth(spec.name));
    }
    await new Promise((resolve) => setImmediate(resolve));

    expect(deepest).toBeLessThan(1_000 + 100);
    expect(handled).toBeGreaterThan(19_000);
    await transport.close();
  });
});
