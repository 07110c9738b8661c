import { Logger } from '@nestjs/common';
import { delay } from '../concurrency';
import { PublishTimeoutError } from '../errors';
import {
  ConsumerHandle,
  DeadLetterRecord,
  EventTransport,
  MessageListener,
  MessageSettlement,
  OutboundMessage,
  QueueSpec,
} from '../event-transport';
import { BrokerConsumer, BrokerMessage, copyMessage, InMemoryBroker } from './in-memory-broker';
import { EventEnvelope } from '../event-envelope';
import { ReconnectBackoff } from './reconnect-backoff';

const NO_HEADERS: Readonly<Record<string, unknown>> = Object.freeze({});

/** Messages waiting in a queue beyond which a publish lets the consumers run before it resolves. */
const CATCH_UP_BACKLOG = 1_000;

/** A message published within the process: it hands over the envelope itself, and is encoded only if someone reads its bytes. */
class LocalMessage implements BrokerMessage {
  readonly headers = NO_HEADERS;
  readonly redelivered = false;

  constructor(private readonly outbound: OutboundMessage) {}

  get envelope(): EventEnvelope {
    return this.outbound.envelope;
  }

  get routingKey(): string {
    return this.outbound.envelope.type;
  }

  get body(): Buffer {
    return this.outbound.body;
  }
}

/** How a consumer settles one in-memory delivery; one object per delivery, as this is the hot path. */
class MemorySettlement implements MessageSettlement {
  constructor(
    private readonly broker: InMemoryBroker,
    private readonly spec: QueueSpec,
    private readonly consumer: BrokerConsumer,
    private readonly message: BrokerMessage,
  ) {}

  ack(): void {
    this.consumer.ack(this.message);
  }

  async retry(_attempt: number, delayMs: number, headers: Record<string, string | number>): Promise<void> {
    if (!this.consumer.unacked.has(this.message)) return;
    this.broker.redeliverLater(this.spec.name, copyMessage(this.message, { ...this.message.headers, ...headers }, false), delayMs);
    this.consumer.ack(this.message);
  }

  async deadLetter(headers: Record<string, string | number>): Promise<void> {
    if (!this.consumer.unacked.has(this.message)) return;
    this.broker.sendToQueue(this.spec.deadLetterQueue, copyMessage(this.message, { ...this.message.headers, ...headers }, this.message.redelivered));
    this.consumer.ack(this.message);
  }
}

interface MemoryConsumerState extends ConsumerHandle {
  attach(): void;
  detach(): void;
}

/**
 * The bus transport for development and tests: the same queues, retries and
 * dead letters as on RabbitMQ, kept in process by an InMemoryBroker.
 */
export class InMemoryTransport extends EventTransport {
  readonly kind = 'memory' as const;
  private connected = true;
  private reconnected: Promise<void> = Promise.resolve();
  private readonly consumers = new Set<MemoryConsumerState>();
  private readonly reconnectListeners = new Set<() => void>();
  private readonly backoff = new ReconnectBackoff();
  private readonly logger = new Logger(InMemoryTransport.name);

  constructor(
    readonly broker: InMemoryBroker,
    private readonly exchange: string,
    private readonly publishTimeoutMs: number,
    /** Whether close() disposes the broker (false when a test shares it between buses). */
    private readonly ownsBroker: boolean,
  ) {
    super();
  }

  async connect(): Promise<void> {}

  isConnected(): boolean {
    return this.connected;
  }

  async publish(messages: readonly OutboundMessage[]): Promise<void> {
    if (!this.connected) await this.waitForConnection(messages[0]?.envelope.type ?? 'event');
    let longestQueue = 0;
    for (const message of messages) longestQueue = Math.max(longestQueue, this.broker.publishMessage(this.exchange, new LocalMessage(message)));
    // Consumers run on later turns of the event loop, and a publisher awaiting publish after publish only ever
    // yields microtasks: it would fill the queues up to their bound before anyone consumed. Past a backlog, the
    // publish resolves on the next turn instead, as a broker's flow control would slow it down.
    if (longestQueue >= CATCH_UP_BACKLOG) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  async consume(spec: QueueSpec, listener: MessageListener): Promise<ConsumerHandle> {
    this.broker.assertQueue(spec.name);
    this.broker.assertQueue(spec.deadLetterQueue);
    for (const pattern of spec.bindings) this.broker.bindQueue(this.exchange, spec.name, pattern);

    const broker = this.broker;
    const onMessage = (message: BrokerMessage, consumer: BrokerConsumer) =>
      listener(message, new MemorySettlement(broker, spec, consumer, message));

    let current: BrokerConsumer | undefined;
    let stopped = false;
    const state: MemoryConsumerState = {
      get consuming() {
        return current !== undefined && current.active;
      },
      attach: () => {
        if (!stopped && !current) current = broker.consume(spec.name, spec.prefetch, onMessage);
      },
      detach: () => {
        if (!current) return;
        broker.cancel(current);
        broker.requeueUnacked(current);
        current = undefined;
      },
      stop: async () => {
        stopped = true;
        if (current) broker.cancel(current);
      },
      close: async () => {
        stopped = true;
        state.detach();
        this.consumers.delete(state);
      },
    };
    this.consumers.add(state);
    if (this.connected) state.attach();
    return state;
  }

  async peekDeadLetters(queue: string, limit: number): Promise<DeadLetterRecord[]> {
    return this.broker.peek(queue, limit).map(({ body, headers }) => ({ body, headers }));
  }

  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  /**
   * Fault injection for tests: drops this transport's "connection" as a broker
   * restart would (deliveries in flight go back to their queues), then
   * reconnects after the same backoff the RabbitMQ transport uses.
   */
  simulateConnectionLoss(): void {
    if (!this.connected) return;
    this.connected = false;
    for (const consumer of this.consumers) consumer.detach();
    const wait = this.backoff.next();
    this.logger.warn(`Simulated connection loss; reconnecting in ${wait} ms`);
    this.reconnected = delay(wait).then(() => {
      this.connected = true;
      this.backoff.reset();
      for (const consumer of this.consumers) consumer.attach();
      for (const listener of this.reconnectListeners) listener();
    });
  }

  async close(): Promise<void> {
    for (const consumer of [...this.consumers]) await consumer.close();
    if (this.ownsBroker) this.broker.dispose();
  }

  private async waitForConnection(eventType: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new PublishTimeoutError(eventType, this.publishTimeoutMs)), this.publishTimeoutMs);
    });
    await Promise.race([this.reconnected, timedOut]).finally(() => clearTimeout(timer));
  }
}
