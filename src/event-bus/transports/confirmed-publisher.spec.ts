import { EventEmitter } from 'node:events';
import type { ConfirmChannel } from 'amqplib';
import { PublishTimeoutError } from '../errors';
import { ConfirmedPublisher, PublishRecord } from './confirmed-publisher';

/**
 * The publisher's own logic (waiting for a channel, resending after a channel
 * loss, failing on a nack or a deadline) against a scripted channel. That the
 * bus really publishes to RabbitMQ, across real connection cuts, is the
 * contract suite's job (test/event-bus).
 */
class ScriptedChannel extends EventEmitter {
  readonly published: Array<{ routingKey: string; confirm: (error: Error | null) => void }> = [];
  closed = false;

  publish(_exchange: string, routingKey: string, _body: Buffer, _options: unknown, confirm: (error: Error | null) => void): boolean {
    if (this.closed) {
      const error = new Error('Channel closed');
      error.name = 'IllegalOperationError';
      throw error;
    }
    this.published.push({ routingKey, confirm });
    return true;
  }

  ackAll(): void {
    for (const { confirm } of this.published.splice(0)) confirm(null);
  }

  close(): void {
    this.closed = true;
    for (const { confirm } of this.published.splice(0)) confirm(new Error('channel closed'));
    this.emit('close');
  }
}

const records = (...keys: string[]): PublishRecord[] => keys.map((routingKey) => ({ routingKey, body: Buffer.from(routingKey), properties: {} }));
const asChannel = (channel: ScriptedChannel) => channel as unknown as ConfirmChannel;
/** Lets pending promise callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('ConfirmedPublisher', () => {
  it('resolves once the broker has confirmed every message of the batch', async () => {
    const publisher = new ConfirmedPublisher('ns.events', 1_000);
    const channel = new ScriptedChannel();
    await publisher.attach(asChannel(channel));
    let done = false;
    const publishing = publisher.publish(records('app.installed', 'app.uninstalled')).then(() => (done = true));
    await settle();
    expect(channel.published.map((p) => p.routingKey)).toEqual(['app.installed', 'app.uninstalled']);
    channel.published[0].confirm(null);
    await settle();
    expect(done).toBe(false);
    channel.published[1].confirm(null);
    await publishing;
    expect(done).toBe(true);
  });

  it('fails the batch when the broker refuses a message', async () => {
    const publisher = new ConfirmedPublisher('ns.events', 1_000);
    const channel = new ScriptedChannel();
    await publisher.attach(asChannel(channel));
    const publishing = publisher.publish(records('app.installed', 'app.uninstalled'));
    await settle();
    channel.published[0].confirm(null);
    channel.published[1].confirm(new Error('message nacked'));
    await expect(publishing).rejects.toThrow('message nacked');
  });

  it('waits for a channel while there is none, then publishes on it', async () => {
    const publisher = new ConfirmedPublisher('ns.events', 5_000);
    const publishing = publisher.publish(records('app.installed'));
    await settle();
    const channel = new ScriptedChannel();
    await publisher.attach(asChannel(channel));
    await settle();
    channel.ackAll();
    await expect(publishing).resolves.toBeUndefined();
  });

  it('fails with PublishTimeoutError, naming the event, when no channel comes in time', async () => {
    const publisher = new ConfirmedPublisher('ns.events', 30);
    await expect(publisher.publish(records('app.installed'))).rejects.toThrow(PublishTimeoutError);
    await expect(publisher.publish(records('app.installed'))).rejects.toThrow('"app.installed"');
  });

  it('fails with PublishTimeoutError when the broker does not confirm in time', async () => {
    const publisher = new ConfirmedPublisher('ns.events', 30);
    await publisher.attach(asChannel(new ScriptedChannel()));
    await expect(publisher.publish(records('app.installed'))).rejects.toThrow(PublishTimeoutError);
  });

  it('sends the whole batch again on the next channel when its channel closes before confirming', async () => {
    const publisher = new ConfirmedPublisher('ns.events', 5_000);
    const first = new ScriptedChannel();
    await publisher.attach(asChannel(first));
    const publishing = publisher.publish(records('app.installed', 'app.uninstalled'));
    await settle();
    first.published[0].confirm(null);
    first.close();
    await settle();
    const second = new ScriptedChannel();
    await publisher.attach(asChannel(second));
    await settle();
    expect(second.published.map((p) => p.routingKey)).toEqual(['app.installed', 'app.uninstalled']);
    second.ackAll();
    await expect(publishing).resolves.toBeUndefined();
  });

  it('does not spin on a channel that refuses writes before saying it closed', async () => {
    const publisher = new ConfirmedPublisher('ns.events', 5_000);
    const dying = new ScriptedChannel();
    await publisher.attach(asChannel(dying));
    dying.closed = true;
    const publishing = publisher.publish(records('app.installed'));
    await settle();
    const next = new ScriptedChannel();
    await publisher.attach(asChannel(next));
    await settle();
    expect(next.published).toHaveLength(1);
    next.ackAll();
    await expect(publishing).resolves.toBeUndefined();
  });
});
