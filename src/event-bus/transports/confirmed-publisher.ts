import type { ChannelModel, ConfirmChannel, Options } from 'amqplib';
import type { Logger } from '@nestjs/common';
import { PublishTimeoutError } from '../errors';

export interface PublishRecord {
  readonly routingKey: string;
  readonly body: Buffer;
  readonly properties: Options.Publish;
}

/**
 * Publishes batches on a raw confirm channel and resolves when the broker has
 * confirmed every message of the batch.
 *
 * Why not `ChannelWrapper.publish`: it makes a promise, a timer, an options
 * copy and a queue entry per message, and looks each confirm up with indexOf —
 * about a third of the bus's publishing CPU. Here a batch costs one promise and
 * one timer, and each message a small confirm callback.
 *
 * What the wrapper gave and this keeps, and more:
 * - while there is no channel (the connection is down), a publish waits for
 *   the next one, up to its deadline, then fails with PublishTimeoutError;
 * - the messages of a batch whose channel closed before the broker confirmed
 *   them are sent again on the next channel — at least once, never lost;
 * - a message the broker refuses (nack) fails the batch;
 * - every new channel declares the exchange before it is used;
 * - a channel the broker closes while the connection lives on (a publish to a
 *   deleted exchange) is replaced after a pause; the wrapper would wait for the
 *   next connection, and publishing would stall until then.
 *
 * Not done: a full socket buffer (`publish` returning false) does not pause the
 * batch; amqplib keeps what it cannot write yet, so a batch is buffered whole.
 */
export class ConfirmedPublisher {
  private connection?: ChannelModel;
  private channel?: ConfirmChannel;
  private reopening?: NodeJS.Timeout;
  private closed = false;
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly exchange: string,
    private readonly timeoutMs: number,
    /** Declares what publishing needs (the exchange) on a new channel, before any publish uses it. */
    private readonly prepare: (channel: ConfirmChannel) => Promise<unknown>,
    /** The broker closed the channel with an error (e.g. 404, the exchange is gone): the transport decides what that means. */
    private readonly onChannelError: (error: Error & { code?: number }) => void,
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly reopenDelayMs = 1_000,
  ) {}

  /** Publishes on `connection` from now on: call on every (re)connect. Resolves once its channel is ready, or failed. */
  async open(connection: ChannelModel): Promise<void> {
    if (this.closed || this.connection === connection) return;
    this.connection = connection;
    connection.once('close', () => {
      if (this.connection === connection) this.connection = undefined;
    });
    await this.openChannel(connection);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reopening);
    const channel = this.channel;
    this.channel = undefined;
    await channel?.close().catch(() => undefined);
  }

  private async openChannel(connection: ChannelModel): Promise<void> {
    if (this.closed || this.connection !== connection) return;
    let channel: ConfirmChannel | undefined;
    try {
      channel = await connection.createConfirmChannel();
      const opened = channel;
      // A refused publish closes the channel with an 'error' event; without a listener amqplib would take the
      // whole connection, and every consumer, down with it.
      opened.on('error', (error: Error) => this.onChannelError(error));
      opened.once('close', () => {
        if (this.channel === opened) this.channel = undefined;
        this.reopenLater(connection);
      });
      // The exchange may be gone (a broker restart in test mode, an operator): declare it before publishing.
      await this.prepare(opened);
    } catch (error) {
      this.logger.warn(`Could not open the publishing channel: ${(error as Error).message}`);
      this.reopenLater(connection);
      return;
    }
    if (this.closed || this.connection !== connection) {
      await channel.close().catch(() => undefined);
      return;
    }
    this.channel = channel;
    for (const wake of this.waiters) wake();
  }

  /** Another channel on the same connection, after a pause so that a broker refusing every channel cannot make this spin. */
  private reopenLater(connection: ChannelModel): void {
    if (this.closed || this.connection !== connection || this.reopening) return;
    this.reopening = setTimeout(() => {
      this.reopening = undefined;
      void this.openChannel(connection);
    }, this.reopenDelayMs);
  }

  async publish(records: readonly PublishRecord[]): Promise<void> {
    if (records.length === 0) return;
    const deadline = Date.now() + this.timeoutMs;
    const what = records[0].routingKey;
    let unconfirmed = records;
    for (;;) {
      const channel = this.channel ?? (await this.nextChannel(deadline, what));
      unconfirmed = await this.send(channel, unconfirmed, deadline, what);
      if (unconfirmed.length === 0) return;
      // The channel went away before confirming these: the broker may or may not hold them. Send them again
      // on the next channel (at least once, never lost), and never on this one, which may not have said it closed yet.
      if (this.channel === channel) this.channel = undefined;
    }
  }

  /**
   * Publishes `records` and waits for their confirms. Resolves with those lost with the channel, to be sent
   * again (none when all were confirmed); rejects on a nack, a refusal, or the deadline.
   */
  private send(channel: ConfirmChannel, records: readonly PublishRecord[], deadline: number, what: string): Promise<readonly PublishRecord[]> {
    return new Promise((resolve, reject) => {
      let outstanding = records.length;
      let failure: unknown;
      const lost: number[] = [];
      const timer = setTimeout(() => reject(new PublishTimeoutError(what, this.timeoutMs)), Math.max(0, deadline - Date.now()));
      const done = (count: number) => {
        outstanding -= count;
        if (outstanding > 0) return;
        clearTimeout(timer);
        if (failure !== undefined) reject(failure);
        else resolve(lost.sort((a, b) => a - b).map((index) => records[index]));
      };
      const confirmation = (index: number) => (error: Error | null) => {
        if (error && isChannelLoss(error)) lost.push(index);
        else if (error) failure ??= error;
        done(1);
      };
      for (let index = 0; index < records.length; index++) {
        const { routingKey, body, properties } = records[index];
        try {
          channel.publish(this.exchange, routingKey, body, properties, confirmation(index));
        } catch (error) {
          // amqplib throws at once on a closed channel: this message and the rest were never written.
          if (!isChannelLoss(error)) failure ??= error;
          for (let rest = index; rest < records.length; rest++) lost.push(rest);
          done(records.length - index);
          return;
        }
      }
    });
  }

  private nextChannel(deadline: number, what: string): Promise<ConfirmChannel> {
    return new Promise<ConfirmChannel>((resolve, reject) => {
      const wake = () => {
        if (!this.channel) return;
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve(this.channel);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        reject(new PublishTimeoutError(what, this.timeoutMs));
      }, Math.max(0, deadline - Date.now()));
      this.waiters.add(wake);
    });
  }
}

function isChannelLoss(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return error.message === 'channel closed' || error.name === 'IllegalOperationError' || /Channel (closed|ended)/i.test(error.message);
}
