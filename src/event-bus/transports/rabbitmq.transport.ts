import { AmqpConnection } from '@golevelup/nestjs-rabbitmq';
import type { Socket } from 'node:net';
import { Logger } from '@nestjs/common';
import type { ChannelWrapper } from 'amqp-connection-manager';
import type { ChannelModel, ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import { delay } from '../concurrency';
import {
  ConsumerHandle,
  DeadLetterRecord,
  EventTransport,
  MessageListener,
  MessageSettlement,
  OutboundMessage,
  QueueSpec,
} from '../event-transport';
import { MessageHeaders } from '../message-headers';
import { ConfirmedPublisher } from './confirmed-publisher';
import { ReconnectBackoff } from './reconnect-backoff';

export interface RabbitMqTransportOptions {
  readonly url: string;
  readonly vhost: string;
  /** Prefix of every exchange and queue this bus declares. */
  readonly namespace: string;
  readonly publishTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** Test mode: nothing durable, shared retry queues expire after this long unused. */
  readonly testMode: boolean;
  readonly connectionName: string;
}

/**
 * Content type of the AMQP message: the CloudEvents structured mode, where the
 * whole envelope is the JSON body. `id`, `type`, `time`, `source` and
 * `correlationId` are mirrored into the AMQP properties (see README).
 */
export const CLOUDEVENTS_CONTENT_TYPE = 'application/cloudevents+json; charset=utf-8';

const TEST_MODE_EXPIRY_MS = 15 * 60_000;

/**
 * The bus transport for production, on RabbitMQ through @golevelup's
 * AmqpConnection (amqp-connection-manager underneath). It declares:
 * - `<ns>.events`, a topic exchange; the routing key is the event type;
 * - one queue per subscription, bound with the subscription's patterns;
 * - `<ns>.retry.<n>`, one fanout exchange + queue per retry attempt, shared by
 *   all subscriptions: a message waits there for its per-message TTL, then
 *   dead-letters through the default exchange back to the queue named by its
 *   routing key (the subscription's queue). No delayed-message plugin needed.
 * - a dead-letter queue per group, and one shared by broadcast subscriptions.
 */
export class RabbitMqTransport extends EventTransport {
  readonly kind = 'rabbitmq' as const;
  private readonly amqp: AmqpConnection;
  private readonly exchange: string;
  private readonly backoff = new ReconnectBackoff();
  private readonly closing = new AbortController();
  private readonly reconnectListeners = new Set<() => void>();
  private readonly consumers = new Set<RabbitMqConsumer>();
  private readonly logger = new Logger(RabbitMqTransport.name);
  private connectedOnce = false;
  private readonly publisher: ConfirmedPublisher;

  constructor(private readonly options: RabbitMqTransportOptions) {
    super();
    this.exchange = `${options.namespace}.events`;
    this.publisher = new ConfirmedPublisher(
      this.exchange,
      options.publishTimeoutMs,
      (channel) => channel.assertExchange(this.exchange, 'topic', { durable: !options.testMode }),
      (error) => this.onPublishingChannelError(error),
      this.logger,
    );
    this.amqp = new AmqpConnection({
      uri: brokerUrl(options.url, options.vhost),
      name: options.connectionName,
      exchanges: [{ name: this.exchange, type: 'topic', options: { durable: !options.testMode } }],
      connectionInitOptions: { wait: true, timeout: options.connectTimeoutMs, reject: true, skipConnectionFailedLogging: true },
      connectionManagerOptions: {
        heartbeatIntervalInSeconds: 5,
        // Our findServers does the waiting, with backoff and jitter; the manager's own fixed delay is a token.
        reconnectTimeInSeconds: 0.001,
        findServers: () => this.nextServer(),
        // amqplib leaves Nagle's algorithm on: small frames then wait for the peer's delayed ACK (~40 ms p99 at 1,000 events/s).
        connectionOptions: { noDelay: true, clientProperties: { connection_name: options.connectionName } },
      },
      registerHandlers: false,
      enableDirectReplyTo: false,
      defaultPublishOptions: { persistent: true },
    });
  }

  get exchangeName(): string {
    return this.exchange;
  }

  async connect(): Promise<void> {
    try {
      await this.amqp.init();
    } catch (error) {
      this.closing.abort();
      await this.amqp.managedConnection?.close().catch(() => undefined);
      throw new Error(
        `Cannot reach RabbitMQ at ${redact(this.options.url)} (vhost "${this.options.vhost}") within ${this.options.connectTimeoutMs} ms: ` +
          `${(error as Error).message}. Check APPSERVER_RABBITMQ_URL and APPSERVER_RABBITMQ_VHOST, or set APPSERVER_EVENTBUS_ENABLED=false.`,
      );
    }
    const manager = this.amqp.managedConnection;
    manager.on('connect', () => {
      this.backoff.reset();
      if (manager.connection) {
        coalesceWrites(manager.connection);
        void this.openPublishing(manager.connection);
      }
      if (this.connectedOnce) {
        this.logger.log('Reconnected to RabbitMQ; consumers re-attach as their channels come back');
        for (const listener of this.reconnectListeners) listener();
      }
      this.connectedOnce = true;
    });
    manager.on('disconnect', ({ err }) => {
      if (!this.closing.signal.aborted) this.logger.warn(`Lost the RabbitMQ connection: ${err?.message ?? 'closed'}`);
    });
    this.connectedOnce = true;
    if (manager.connection) {
      coalesceWrites(manager.connection);
      await this.publisher.open(manager.connection);
    }
  }


  /**
   * Publishing resumes on a new connection once every consumer's channel has
   * redeclared its queue and bindings (bounded by the connect timeout): after
   * the exchange was lost, an event published sooner would find no binding and
   * be dropped by the broker.
   */
  private async openPublishing(connection: ChannelModel): Promise<void> {
    const deadline = new AbortController();
    const topology = Promise.all([...this.consumers].map((consumer) => consumer.ready()));
    await Promise.race([topology.catch(() => undefined), delay(this.options.connectTimeoutMs, deadline.signal)]);
    deadline.abort();
    await this.publisher.open(connection);
  }

  private onPublishingChannelError(error: Error & { code?: number }): void {
    this.logger.error(`RabbitMQ closed the publishing channel: ${error.message}`);
    // 404: the events exchange is gone, and every binding with it. Only a new connection runs every channel's
    // setup, which redeclares the whole topology; the publishes in flight are sent again once it is back.
    if (error.code === 404 && !this.closing.signal.aborted) void this.amqp.managedConnection.connection?.close().catch(() => undefined);
  }

  isConnected(): boolean {
    return this.amqp.managedConnection?.isConnected() ?? false;
  }

  async publish(messages: readonly OutboundMessage[]): Promise<void> {
    await this.publisher.publish(
      messages.map(({ envelope, body }) => ({ routingKey: envelope.type, body, properties: envelopeProperties(envelope) })),
    );
  }

  async consume(spec: QueueSpec, listener: MessageListener): Promise<ConsumerHandle> {
    const consumer = new RabbitMqConsumer(spec, listener, this.options, this.exchange, this.logger);
    const wrapper = this.amqp.managedConnection.createChannel({
      name: spec.name,
      confirm: true,
      // Runs on every new channel, so a reconnect redeclares the topology and re-attaches the consumer.
      setup: (channel: ConfirmChannel) => consumer.setUp(channel),
    });
    try {
      await consumer.attachTo(wrapper);
    } catch (error) {
      await wrapper.close().catch(() => undefined);
      throw new Error(`Cannot set up the queue "${spec.name}" on RabbitMQ: ${(error as Error).message}`);
    }
    this.consumers.add(consumer);
    consumer.onClosed = () => this.consumers.delete(consumer);
    return consumer;
  }

  async peekDeadLetters(queue: string, limit: number): Promise<DeadLetterRecord[]> {
    // A throwaway channel: basic.get without ack, then closing the channel returns every message to the queue.
    const channel = await this.amqp.managedConnection.connection!.createChannel();
    try {
      await channel.checkQueue(queue);
      const records: DeadLetterRecord[] = [];
      while (records.length < limit) {
        const message = await channel.get(queue, { noAck: false });
        if (!message) break;
        records.push({ body: message.content, headers: message.properties.headers ?? {} });
      }
      return records;
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closing.abort();
    for (const consumer of [...this.consumers]) await consumer.close();
    await this.publisher.close();
    await this.amqp.managedConnection?.close();
  }

  /** Called by amqp-connection-manager before every connection attempt. */
  private async nextServer(): Promise<string[]> {
    const url = brokerUrl(this.options.url, this.options.vhost);
    if (!this.connectedOnce) return [url];
    const wait = this.backoff.next();
    this.logger.log(`Reconnecting to RabbitMQ in ${wait} ms`);
    await delay(wait, this.closing.signal);
    if (this.closing.signal.aborted) throw new Error('transport closed');
    return [url];
  }
}

class RabbitMqConsumer implements ConsumerHandle {
  private wrapper?: ChannelWrapper;
  private channel?: ConfirmChannel;
  private consumerTag?: string;
  private stopped = false;
  onClosed?: () => void;

  constructor(
    private readonly spec: QueueSpec,
    private readonly listener: MessageListener,
    private readonly options: RabbitMqTransportOptions,
    private readonly exchange: string,
    private readonly logger: Logger,
  ) {}

  get consuming(): boolean {
    return this.consumerTag !== undefined;
  }

  /** Resolves once this consumer's channel is set up (its topology declared) on the current connection. */
  ready(): Promise<void> {
    return this.wrapper ? this.wrapper.waitForConnect() : Promise.resolve();
  }

  /** Resolves once the first setup has run; rejects with its error (a setup error is otherwise only an event). */
  async attachTo(wrapper: ChannelWrapper): Promise<void> {
    this.wrapper = wrapper;
    let onError: (error: Error) => void = () => undefined;
    const failed = new Promise<never>((_, reject) => {
      onError = reject;
      wrapper.once('error', onError);
    });
    try {
      await Promise.race([wrapper.waitForConnect(), failed]);
    } finally {
      wrapper.removeListener('error', onError);
    }
    wrapper.on('error', (error: Error) => this.logger.error(`Channel of "${this.spec.name}" failed: ${error.message}`));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const { channel, consumerTag } = this;
    this.consumerTag = undefined;
    if (channel && consumerTag) await channel.cancel(consumerTag).catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.stop();
    await this.wrapper?.close().catch(() => undefined);
    this.onClosed?.();
  }

  async setUp(channel: ConfirmChannel): Promise<void> {
    const { spec, options } = this;
    const ns = options.namespace;
    const expiry = options.testMode ? { 'x-expires': TEST_MODE_EXPIRY_MS } : {};
    channel.on('close', () => {
      if (this.channel === channel) this.consumerTag = undefined;
    });
    await channel.assertExchange(this.exchange, 'topic', { durable: !options.testMode });
    for (let level = 1; level <= spec.retryLevels; level++) {
      const name = retryQueueName(ns, level);
      await channel.assertExchange(name, 'fanout', { durable: !options.testMode });
      await channel.assertQueue(name, { durable: !options.testMode, arguments: { 'x-dead-letter-exchange': '', ...expiry } });
      await channel.bindQueue(name, name, '');
    }
    await channel.assertQueue(spec.deadLetterQueue, {
      durable: !options.testMode,
      arguments: spec.deadLetterExpiresMs ? { 'x-expires': spec.deadLetterExpiresMs } : {},
    });
    await channel.assertQueue(spec.name, {
      durable: spec.durable,
      autoDelete: spec.autoDelete,
      arguments: spec.expiresMs ? { 'x-expires': spec.expiresMs } : {},
    });
    for (const pattern of spec.bindings) await channel.bindQueue(spec.name, this.exchange, pattern);
    await channel.prefetch(spec.prefetch);
    this.channel = channel;
    if (this.stopped) return;
    const { consumerTag } = await channel.consume(spec.name, (message) => this.deliver(channel, message), { noAck: false });
    this.consumerTag = consumerTag;
  }

  private deliver(channel: ConfirmChannel, message: ConsumeMessage | null): void {
    if (message === null) {
      // The broker cancelled us (the queue was deleted); the next reconnect redeclares it.
      this.logger.warn(`RabbitMQ cancelled the consumer of "${this.spec.name}"`);
      this.consumerTag = undefined;
      return;
    }
    const headers = message.properties.headers ?? {};
    const settlement = new RabbitMqSettlement(channel, message, this.spec, this.options.namespace);
    this.listener(
      {
        body: message.content,
        // After a retry the routing key is the queue's name; the header keeps the event type it was published with.
        routingKey: String(headers[MessageHeaders.ORIGINAL_ROUTING_KEY] ?? message.fields.routingKey),
        headers,
        redelivered: message.fields.redelivered,
      },
      settlement,
    );
  }
}

/** How a consumer settles one delivery; one object per delivery, as this is the hot path. */
class RabbitMqSettlement implements MessageSettlement {
  constructor(
    private readonly channel: ConfirmChannel,
    private readonly message: ConsumeMessage,
    private readonly spec: QueueSpec,
    private readonly namespace: string,
  ) {}

  ack(): void {
    this.channel.ack(this.message);
  }

  async retry(attempt: number, delayMs: number, headers: Record<string, string | number>): Promise<void> {
    const level = Math.min(attempt, this.spec.retryLevels);
    await sendConfirmed(this.channel, retryQueueName(this.namespace, level), this.spec.name, this.message, headers, delayMs);
    this.channel.ack(this.message);
  }

  async deadLetter(headers: Record<string, string | number>): Promise<void> {
    await sendConfirmed(this.channel, '', this.spec.deadLetterQueue, this.message, headers);
    this.channel.ack(this.message);
  }
}

/**
 * Sends the frames amqplib writes in one tick in one system call. amqplib
 * writes every frame to the socket on its own — each publish of a batch, each
 * ack — and a write is a system call: on loopback, about a quarter of the bus's
 * CPU per event. Corking the socket at the first write of a tick and uncorking
 * it at the end of the tick (process.nextTick, before any I/O) coalesces them;
 * nothing waits longer than the current tick. Idempotent per connection.
 */
function coalesceWrites(connection: ChannelModel): void {
  const socket = (connection as unknown as { connection?: { stream?: Socket & { [COALESCING]?: true } } }).connection?.stream;
  if (!socket || typeof socket.cork !== 'function' || socket[COALESCING]) return;
  socket[COALESCING] = true;
  const write = socket.write;
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  socket.write = function coalescedWrite(this: Socket, ...args: Parameters<Socket['write']>) {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    return write.apply(socket, args);
  } as Socket['write'];
}

const COALESCING = Symbol('coalescingWrites');

function retryQueueName(namespace: string, level: number): string {
  return `${namespace}.retry.${level}`;
}

function envelopeProperties(envelope: OutboundMessage['envelope']): Options.Publish {
  return {
    persistent: true,
    messageId: envelope.id,
    type: envelope.type,
    timestamp: Math.floor(Date.parse(envelope.time) / 1000),
    contentType: CLOUDEVENTS_CONTENT_TYPE,
    appId: envelope.source,
    correlationId: envelope.correlationId,
  };
}

/** Publishes a copy of `message` with extra headers and waits for the broker's confirm. */
function sendConfirmed(
  channel: ConfirmChannel,
  exchange: string,
  routingKey: string,
  message: ConsumeMessage,
  extraHeaders: Record<string, string | number>,
  expirationMs?: number,
): Promise<void> {
  const { headers, messageId, type, timestamp, contentType, appId, correlationId } = message.properties;
  return new Promise((resolve, reject) => {
    channel.publish(
      exchange,
      routingKey,
      message.content,
      {
        persistent: true,
        messageId,
        type,
        timestamp,
        contentType,
        appId,
        correlationId,
        headers: { ...headers, ...extraHeaders },
        ...(expirationMs !== undefined ? { expiration: String(expirationMs) } : {}),
      },
      (error) => (error ? reject(error) : resolve()),
    );
  });
}

function brokerUrl(url: string, vhost: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(vhost)}`;
  return parsed.toString();
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
