import { EventEmitter } from 'node:events';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import { PublishTimeoutError } from '../errors';
import { waitFor } from '../../../test/support/wait-for';
import { ConfirmedPublisher, PublishRecord } from './confirmed-publisher';

/**
 * The publisher's own logic (waiting for a channel, resending after a channel
 * loss, failing on a nack or a deadline) against a scripted channel. That the
 * bus really publishes to RabbitMQ, across real connection cuts, is the
 * contract suite's job (test/event-bus).
 */
class ScriptedChannel extends EventEmitter {
  /** What was published, in order; like amqplib, each confirm callback runs once. */
  readonly published: Array<{ routingKey: string; confirm: (error: Error | null) => void; settled: boolean }> = [];
  closed = false;

  publish(_exchange: string, routingKey: string, _body: Buffer, _options: unknown, confirm: (error: Error | null) => void): boolean {
    if (this.closed) {
      const error = new Error('Channel closed');
      error.name = 'IllegalOperationError';
      throw error;
    }
    const entry = {
      routingKey,
      settled: false,
      confirm: (error: Error | null) => {
        if (entry.settled) return;
        entry.settled = true;
        confirm(error);
      },
    };
    this.published.push(entry);
    return true;
  }

  ackAll(): void {
    for (const { confirm } of this.published) confirm(null);
  }

  /** As amqplib on close: every message not yet confirmed fails with "channel closed". */
  close(): void {
    this.closed = true;
    for (const { confirm } of this.published) confirm(new Error('channel closed'));
    this.emit('close');
  }
}

const records = (...keys: string[]): PublishRecord[] => keys.map((routingKey) => ({ routingKey, body: Buffer.from(routingKey), properties: {} }));
/** A connection whose channels are the given ones, in order, then fresh ones; it records every channel it opened. */
class ScriptedConnection extends EventEmitter {
  readonly opened: ScriptedChannel[] = [];

  constructor(private readonly queued: ScriptedChannel[]) {
    super();
  }

  async createConfirmChannel(): Promise<ConfirmChannel> {
    const channel = this.queued.shift() ?? new ScriptedChannel();
    this.opened.push(channel);
    return channel as unknown as ConfirmChannel;
  }
}

const connectionOf = (...channels: ScriptedChannel[]) => new ScriptedConnection(channels) as unknown as ChannelModel;
/** Lets pending promise callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

const publisherWith = (timeoutMs: number, prepare: (channel: ConfirmChannel) => Promise<unknown> = async () => undefined) =>
  new ConfirmedPublisher('ns.events', timeoutMs, prepare, () => undefined, { warn: () => undefined }, 5);

describe('ConfirmedPublisher', () => {
  it('resolves once the broker has confirmed every message of the batch', async () => {
    const publisher = publisherWith(1_000);
    const channel = new ScriptedChannel();
    await publisher.open(connectionOf(channel));
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
    const publisher = publisherWith(1_000);
    const channel = new ScriptedChannel();
    await publisher.open(connectionOf(channel));
    const publishing = publisher.publish(records('app.installed', 'app.uninstalled'));
    await settle();
    channel.published[0].confirm(null);
    channel.published[1].confirm(new Error('message nacked'));
    await expect(publishing).rejects.toThrow('message nacked');
  });

  it('waits for a channel while there is none, then publishes on it', async () => {
    const publisher = publisherWith(5_000);
    const publishing = publisher.publish(records('app.installed'));
    await settle();
    const channel = new ScriptedChannel();
    await publisher.open(connectionOf(channel));
    await settle();
    channel.ackAll();
    await expect(publishing).resolves.toBeUndefined();
  });

  it('fails with PublishTimeoutError, naming the event, when no channel comes in time', async () => {
    const publisher = publisherWith(30);
    await expect(publisher.publish(records('app.installed'))).rejects.toThrow(PublishTimeoutError);
    await expect(publisher.publish(records('app.installed'))).rejects.toThrow('"app.installed"');
  });

  it('fails with PublishTimeoutError when the broker does not confirm in time', async () => {
    const publisher = publisherWith(30);
    await publisher.open(connectionOf(new ScriptedChannel()));
    await expect(publisher.publish(records('app.installed'))).rejects.toThrow(PublishTimeoutError);
  });

  it('sends again, on the next channel, only what its channel lost before confirming', async () => {
    const publisher = publisherWith(5_000);
    const first = new ScriptedChannel();
    await publisher.open(connectionOf(first));
    const publishing = publisher.publish(records('app.installed', 'app.uninstalled'));
    await settle();
    first.published[0].confirm(null);
    first.close();
    await settle();
    const second = new ScriptedChannel();
    await publisher.open(connectionOf(second));
    await settle();
    expect(second.published.map((p) => p.routingKey)).toEqual(['app.uninstalled']);
    second.ackAll();
    await expect(publishing).resolves.toBeUndefined();
  });

  it('does not spin on a channel that refuses writes before saying it closed', async () => {
    const publisher = publisherWith(5_000);
    const dying = new ScriptedChannel();
    await publisher.open(connectionOf(dying));
    dying.closed = true;
    const publishing = publisher.publish(records('app.installed'));
    await settle();
    const next = new ScriptedChannel();
    await publisher.open(connectionOf(next));
    await settle();
    expect(next.published).toHaveLength(1);
    next.ackAll();
    await expect(publishing).resolves.toBeUndefined();
  });

  it('publishes on a new channel only once it is prepared (the exchange declared)', async () => {
    let declare!: () => void;
    const declared = new Promise<void>((resolve) => (declare = resolve));
    const publisher = publisherWith(5_000, () => declared);
    const channel = new ScriptedChannel();
    const attaching = publisher.open(connectionOf(channel));
    const publishing = publisher.publish(records('app.installed'));
    await settle();
    expect(channel.published).toHaveLength(0);
    declare();
    await attaching;
    await settle();
    expect(channel.published).toHaveLength(1);
    channel.ackAll();
    await expect(publishing).resolves.toBeUndefined();
  });

  it('listens for the channel\'s errors, so a refused publish does not throw from the emitter', async () => {
    const publisher = publisherWith(1_000);
    const channel = new ScriptedChannel();
    await publisher.open(connectionOf(channel));
    expect(() => channel.emit('error', new Error('NOT_FOUND - no exchange'))).not.toThrow();
  });

  it('replaces a channel the broker closed while the connection lives on, and publishing goes on', async () => {
    const publisher = publisherWith(5_000);
    const refused = new ScriptedChannel();
    const replacement = new ScriptedChannel();
    const connection = new ScriptedConnection([refused, replacement]);
    await publisher.open(connection as unknown as ChannelModel);
    const publishing = publisher.publish(records('app.installed'));
    await settle();
    refused.emit('error', new Error('NOT_FOUND - no exchange'));
    refused.close();

    await waitFor(() => replacement.published.length === 1, 'the message to be sent again on a new channel');
    replacement.ackAll();
    await expect(publishing).resolves.toBeUndefined();
    expect(connection.opened).toEqual([refused, replacement]);
  });

  it('opens no channel on a connection that has closed, nor after close()', async () => {
    const publisher = publisherWith(40);
    const channel = new ScriptedChannel();
    const connection = new ScriptedConnection([channel]);
    await publisher.open(connection as unknown as ChannelModel);
    connection.emit('close');
    channel.close();
    await expect(publisher.publish(records('app.installed'))).rejects.toThrow(PublishTimeoutError);
    expect(connection.opened).toHaveLength(1);

    const other = new ScriptedConnection([]);
    await publisher.close();
    await publisher.open(other as unknown as ChannelModel);
    expect(other.opened).toHaveLength(0);
  });

  it('tries again, after a pause, when a channel cannot be opened', async () => {
    const publisher = publisherWith(5_000);
    const channel = new ScriptedChannel();
    const connection = new ScriptedConnection([channel]);
    let failures = 1;
    const open = connection.createConfirmChannel.bind(connection);
    connection.createConfirmChannel = async () => {
      if (failures-- > 0) throw new Error('NOT_ALLOWED - channel_max reached');
      return open();
    };
    await publisher.open(connection as unknown as ChannelModel);
    const publishing = publisher.publish(records('app.installed'));

    await waitFor(() => channel.published.length === 1, 'the message on the channel opened at the second try');
    channel.ackAll();
    await expect(publishing).resolves.toBeUndefined();
  });
});
