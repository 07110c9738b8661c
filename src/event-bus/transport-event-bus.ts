import { randomBytes } from 'node:crypto';
import { Logger, OnModuleDestroy } from '@nestjs/common';
import { delay, Semaphore } from './concurrency';
import { EventBus, DeadLetter, EventBusHealth, EventHandler, PublishOptions, PublishRequest, Subscription, SubscribeOptions } from './event-bus';
import { EventCatalog, EventPayload, EventType } from './event-catalog';
import { EventConsumer } from './event-consumer';
import { EventContext } from './event-context';
import { EventIdGenerator } from './event-ids';
import { EventSourceAuthorizer } from './event-source-authorizer';
import { AnyEventEnvelope, checkCallerFields, checkEnvelopeShape, EnvelopeFor, EnvelopeOf, EventEnvelope, frozenJsonCopy } from './event-envelope';
import { EventBusClosedError, EventValidationError } from './errors';
import { ConsumerHandle, EventTransport, outboundMessage, QueueSpec } from './event-transport';
import { FailureKind, MessageHeaders } from './message-headers';
import { RetryPolicy } from './retry-policy';
import { compileTopicPattern } from './topic-pattern';

/** Everything the bus needs to know, resolved from configuration and module options. */
export interface EventBusSettings {
  /** Prefix of every exchange and queue, so several deployments (or tests) can share a broker. */
  readonly namespace: string;
  readonly instanceId: string;
  readonly testMode: boolean;
  readonly retry: RetryPolicy;
  readonly prefetch: number;
  readonly handlerTimeoutMs: number;
  readonly groupQueueDurable: boolean;
  readonly groupQueueAutoDelete: boolean;
  /** A broadcast queue outlives a lost connection this long, so a reconnecting instance misses nothing. */
  readonly broadcastQueueExpiresMs: number;
  readonly shutdownTimeoutMs: number;
  readonly maxConcurrentHandlers: number;
}

interface ActiveSubscription {
  readonly subscription: Subscription;
  readonly consumer: EventConsumer;
  readonly handle: ConsumerHandle;
}

const NO_METADATA: Readonly<Record<string, string>> = Object.freeze({});
const GROUP_NAME = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
const TEST_MODE_EXPIRY_MS = 15 * 60_000;

/** The EventBus, over whichever EventTransport configuration picked. */
export class TransportEventBus extends EventBus implements OnModuleDestroy {
  private readonly logger = new Logger(EventBus.name);
  private readonly subscriptions = new Map<string, ActiveSubscription>();
  private readonly groups = new Set<string>();
  private readonly pendingPublishes = new Set<Promise<unknown>>();
  private readonly limiter: Semaphore;
  /** Distinguishes this bus's broadcast queues from those of any other bus of the same instance id. */
  private readonly busTag = randomBytes(3).toString('hex');
  private readonly source: string;
  private readonly ids = new EventIdGenerator();
  private sequence = 0;
  private closing?: Promise<void>;

  constructor(
    private readonly transport: EventTransport,
    private readonly catalog: EventCatalog,
    private readonly context: EventContext,
    private readonly settings: EventBusSettings,
    private readonly sourceAuthorizer: EventSourceAuthorizer,
  ) {
    super();
    this.limiter = new Semaphore(settings.maxConcurrentHandlers);
    this.source = `appserver/${settings.instanceId}`;
  }

  async connect(): Promise<void> {
    await this.transport.connect();
  }

  createEnvelope<T extends EventType>(type: T, payload: EventPayload<T>, options: PublishOptions = {}): EnvelopeOf<T> {
    const definition = this.catalog.get(type);
    if (!definition) throw new EventValidationError(type, [`unknown event type (known: ${this.catalog.types().join(', ')})`]);
    // What is validated is what will be delivered: the payload as a JSON round trip leaves it (a getter, an
    // inherited field or a toJSON would otherwise pass here and arrive changed). Frozen, so the in-memory
    // transport may hand the envelope to its consumers as is.
    const data = frozenJsonCopy(payload);
    const problems = this.catalog.validatePayload(definition, data);
    if (problems.length > 0) throw new EventValidationError(type, problems);
    const context = this.context.current();
    const { id, time } = this.ids.next();
    const envelope = Object.freeze({
      id,
      type,
      source: options.sourceAppName ? `app/${options.sourceAppName}` : this.source,
      specversion: '1.0',
      time,
      datacontenttype: 'application/json',
      aggregateId: options.aggregateId ?? definition.aggregateId(data),
      aggregateType: definition.aggregateType,
      version: definition.version,
      correlationId: options.correlationId ?? context?.correlationId ?? id,
      causationId: options.causationId ?? context?.causationId ?? null,
      sourceAppId: options.sourceAppId ?? null,
      sourceAppName: options.sourceAppName ?? null,
      metadata: options.metadata ? Object.freeze({ ...options.metadata }) : NO_METADATA,
      data,
    }) as EnvelopeOf<T>;
    // The options fill envelope fields (aggregateId, metadata, ids): a consumer on RabbitMQ checks them, so check them here.
    const envelopeProblems = checkCallerFields(envelope);
    if (envelopeProblems.length > 0) throw new EventValidationError(type, envelopeProblems);
    return envelope;
  }

  async publish<T extends EventType>(type: T, payload: EventPayload<T>, options?: PublishOptions): Promise<EnvelopeOf<T>> {
    const envelope = this.createEnvelope(type, payload, options);
    await this.send([envelope]);
    return envelope;
  }

  async publishAll(events: readonly PublishRequest[]): Promise<AnyEventEnvelope[]> {
    const envelopes = events.map(
      ({ type, payload, options }) => this.createEnvelope(type, payload as never, options) as AnyEventEnvelope,
    );
    await this.send(envelopes);
    return envelopes;
  }

  async publishEnvelopes(envelopes: readonly AnyEventEnvelope[]): Promise<void> {
    // Rows written before a deploy may meet a newer catalog: check them again (well under a microsecond),
    // as they will be delivered: a frozen JSON-like copy.
    const copies = envelopes.map(frozenJsonCopy);
    for (const envelope of copies) {
      const problems = checkEnvelopeShape(envelope);
      const definition = this.catalog.get(envelope?.type);
      if (!definition) problems.push(`unknown event type "${envelope?.type}"`);
      else problems.push(...this.catalog.validatePayload(definition, envelope.data));
      if (problems.length > 0) throw new EventValidationError(envelope?.type ?? 'unknown', problems);
    }
    await this.send(copies);
  }

  async subscribe<P extends string>(pattern: P, handler: EventHandler<EnvelopeFor<P>>, options: SubscribeOptions = {}): Promise<Subscription> {
    if (this.closing) throw new EventBusClosedError(`subscribe to "${pattern}"`);
    const matches = compileTopicPattern(pattern);
    const { group } = options;
    if (group !== undefined) {
      if (!GROUP_NAME.test(group)) throw new Error(`Invalid group name "${group}": use letters, digits, "_", "-" and dots`);
      if (this.groups.has(group)) throw new Error(`Group "${group}" already has a subscription on this bus; use one handler per group`);
    }
    const name = options.name ?? group ?? pattern;
    const spec = this.queueSpec(pattern, name, options);
    const consumer = new EventConsumer(
      name,
      spec.name,
      matches,
      handler as (event: EventEnvelope) => Promise<void>,
      {
        retry: {
          maxRetries: options.maxRetries ?? this.settings.retry.maxRetries,
          initialDelayMs: options.retryDelayMs ?? this.settings.retry.initialDelayMs,
          maxDelayMs: this.settings.retry.maxDelayMs,
        },
        handlerTimeoutMs: options.handlerTimeoutMs ?? this.settings.handlerTimeoutMs,
        orderByAggregate: options.orderByAggregate ?? false,
      },
      { catalog: this.catalog, context: this.context, limiter: this.limiter, logger: this.logger, sourceAuthorizer: this.sourceAuthorizer },
    );
    if (group !== undefined) this.groups.add(group);
    let handle: ConsumerHandle;
    try {
      handle = await this.transport.consume(spec, consumer.listener);
    } catch (error) {
      if (group !== undefined) this.groups.delete(group);
      throw error;
    }
    const subscription: Subscription = {
      id: `${spec.name}#${++this.sequence}`,
      pattern,
      name,
      group,
      queue: spec.name,
      deadLetterQueue: spec.deadLetterQueue,
    };
    this.subscriptions.set(subscription.id, { subscription, consumer, handle });
    return subscription;
  }

  async unsubscribe(subscription: Subscription): Promise<void> {
    const active = this.subscriptions.get(subscription.id);
    if (!active) return;
    this.subscriptions.delete(subscription.id);
    if (subscription.group !== undefined) this.groups.delete(subscription.group);
    await active.handle.stop();
    await active.consumer.drain();
    await active.handle.close();
  }

  async deadLetters(subscription: Subscription, limit = 100): Promise<DeadLetter[]> {
    // Broadcast subscriptions share one dead-letter queue: read a little more and keep this subscription's own.
    const records = await this.transport.peekDeadLetters(subscription.deadLetterQueue, subscription.group ? limit : limit * 10);
    return records
      .map(({ body, headers }) => toDeadLetter(body, headers))
      .filter((letter) => letter.originalQueue === subscription.queue || subscription.group !== undefined)
      .slice(0, limit);
  }

  health(): EventBusHealth {
    const active = [...this.subscriptions.values()];
    const connected = this.transport.isConnected();
    const consumingSubscriptions = active.filter((a) => a.handle.consuming).length;
    return {
      transport: this.transport.kind,
      connected,
      consuming: connected && !this.closing && consumingSubscriptions === active.length,
      subscriptions: active.length,
      consumingSubscriptions,
      handlersInFlight: active.reduce((sum, a) => sum + a.consumer.handlersRunning, 0),
    };
  }

  onReconnect(listener: () => void): () => void {
    return this.transport.onReconnect(listener);
  }

  /** Nest's shutdown (SIGTERM with shutdown hooks enabled, or app.close()). */
  onModuleDestroy(): Promise<void> {
    return this.close();
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    const active = [...this.subscriptions.values()];
    await Promise.all(active.map((a) => a.handle.stop()));
    const deadline = new AbortController();
    const drained = Promise.all(active.map((a) => a.consumer.drain())).then(() => true);
    const finished = await Promise.race([drained, delay(this.settings.shutdownTimeoutMs, deadline.signal).then(() => false)]);
    deadline.abort();
    if (!finished) {
      this.logger.warn(`Handlers still running after ${this.settings.shutdownTimeoutMs} ms; their messages stay unacknowledged and will be redelivered`);
    }
    await Promise.allSettled([...this.pendingPublishes]);
    await Promise.all(active.map((a) => a.handle.close().catch(() => undefined)));
    this.subscriptions.clear();
    await this.transport.close();
  }

  private async send(envelopes: readonly EventEnvelope[]): Promise<void> {
    if (this.closing) throw new EventBusClosedError(`publish "${envelopes[0]?.type}"`);
    if (envelopes.length === 0) return;
    const pending = this.transport.publish(envelopes.map(outboundMessage));
    this.pendingPublishes.add(pending);
    try {
      await pending;
    } finally {
      this.pendingPublishes.delete(pending);
    }
  }

  private queueSpec(pattern: string, name: string, options: SubscribeOptions): QueueSpec {
    const { namespace, testMode } = this.settings;
    const retryLevels = options.maxRetries ?? this.settings.retry.maxRetries;
    const prefetch = options.prefetch ?? this.settings.prefetch;
    if (options.group !== undefined) {
      const queue = `${namespace}.group.${options.group}`;
      return {
        name: queue,
        bindings: [pattern],
        durable: this.settings.groupQueueDurable && !testMode,
        autoDelete: this.settings.groupQueueAutoDelete,
        expiresMs: testMode ? TEST_MODE_EXPIRY_MS : undefined,
        prefetch,
        retryLevels,
        deadLetterQueue: `${queue}.dead`,
        deadLetterExpiresMs: testMode ? TEST_MODE_EXPIRY_MS : undefined,
      };
    }
    const slug = name.replace(/#/g, 'hash').replace(/\*/g, 'star').replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 80);
    return {
      name: `${namespace}.broadcast.${this.settings.instanceId}.${this.busTag}.${slug}.${this.sequence + 1}`,
      bindings: [pattern],
      durable: false,
      autoDelete: false,
      expiresMs: this.settings.broadcastQueueExpiresMs,
      prefetch,
      retryLevels,
      deadLetterQueue: `${namespace}.broadcast.dead`,
      deadLetterExpiresMs: testMode ? TEST_MODE_EXPIRY_MS : undefined,
    };
  }
}

function toDeadLetter(body: Buffer, headers: Readonly<Record<string, unknown>>): DeadLetter {
  const text = body.toString('utf8');
  let envelope: AnyEventEnvelope | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (checkEnvelopeShape(parsed).length === 0) envelope = parsed as AnyEventEnvelope;
  } catch {
    envelope = undefined;
  }
  const header = (name: string) => (headers[name] === undefined ? '' : String(headers[name]));
  return {
    failureKind: (header(MessageHeaders.FAILURE_KIND) || 'unknown') as FailureKind | 'unknown',
    error: header(MessageHeaders.ERROR),
    attempts: Number(headers[MessageHeaders.ATTEMPTS] ?? 0),
    handler: header(MessageHeaders.HANDLER),
    originalRoutingKey: header(MessageHeaders.ORIGINAL_ROUTING_KEY),
    originalQueue: header(MessageHeaders.ORIGINAL_QUEUE),
    firstFailureAt: header(MessageHeaders.FIRST_FAILURE_AT),
    lastFailureAt: header(MessageHeaders.LAST_FAILURE_AT),
    envelope,
    body: text,
  };
}
