import { EventPayload, EventType } from './event-catalog';
import { AnyEventEnvelope, EnvelopeFor, EnvelopeOf } from './event-envelope';
import { FailureKind } from './message-headers';

/** Options of one publish; ids default to the current context (request or handled event). */
export interface PublishOptions {
  readonly correlationId?: string;
  readonly causationId?: string;
  /** Overrides the aggregate id the catalog derives from the payload. */
  readonly aggregateId?: string;
  /** Set when an app publishes its own events. */
  readonly sourceAppId?: string;
  readonly sourceAppName?: string;
  readonly metadata?: Record<string, string>;
}

/** One event of a `publishAll` batch. */
export type PublishRequest = {
  [T in EventType]: { readonly type: T; readonly payload: EventPayload<T>; readonly options?: PublishOptions };
}[EventType];

export type EventHandler<E> = (event: E) => Promise<void> | void;

export interface SubscribeOptions {
  /**
   * Competing consumers: every instance subscribing with this group shares one
   * durable queue and each event is handled once per group. Omit for broadcast
   * (every instance receives every event; handlers must be cheap and idempotent).
   */
  readonly group?: string;
  /** Names the handler in logs and dead-letter headers; defaults to the group or the pattern. */
  readonly name?: string;
  /** Unacknowledged messages this subscription may hold (default: APPSERVER_RABBITMQ_PREFETCH_COUNT). */
  readonly prefetch?: number;
  readonly maxRetries?: number;
  readonly retryDelayMs?: number;
  /** A handler running longer fails and is retried (default: APPSERVER_RABBITMQ_CONSUMER_TIMEOUT). */
  readonly handlerTimeoutMs?: number;
  /** Handle the events of one aggregate one at a time, in arrival order. */
  readonly orderByAggregate?: boolean;
}

export interface Subscription {
  readonly id: string;
  readonly pattern: string;
  readonly name: string;
  readonly group?: string;
  readonly queue: string;
  readonly deadLetterQueue: string;
}

/** A message in a dead-letter queue, with the reasons it is there. */
export interface DeadLetter {
  readonly failureKind: FailureKind | 'unknown';
  readonly error: string;
  readonly attempts: number;
  readonly handler: string;
  readonly originalRoutingKey: string;
  readonly originalQueue: string;
  readonly firstFailureAt: string;
  readonly lastFailureAt: string;
  /** The envelope, when the body could be decoded. */
  readonly envelope?: AnyEventEnvelope;
  readonly body: string;
}

export interface EventBusHealth {
  readonly transport: 'memory' | 'rabbitmq';
  readonly connected: boolean;
  /** Connected and every subscription has a live consumer. */
  readonly consuming: boolean;
  readonly subscriptions: number;
  readonly consumingSubscriptions: number;
  readonly handlersInFlight: number;
}

/**
 * The one way domain code publishes and receives domain events. Inject it by
 * this class; the transport (RabbitMQ or in memory) is chosen by configuration
 * and behaves the same either way.
 */
export abstract class EventBus {
  /** Validates, wraps in an envelope and publishes; resolves once the broker has accepted it. */
  abstract publish<T extends EventType>(type: T, payload: EventPayload<T>, options?: PublishOptions): Promise<EnvelopeOf<T>>;

  /** Publishes several events; resolves once the broker has accepted all of them. */
  abstract publishAll(events: readonly PublishRequest[]): Promise<AnyEventEnvelope[]>;

  /** Builds and validates an envelope without publishing it (the outbox stores it for later). */
  abstract createEnvelope<T extends EventType>(type: T, payload: EventPayload<T>, options?: PublishOptions): EnvelopeOf<T>;

  /** Publishes envelopes built earlier by `createEnvelope`, validating them again. */
  abstract publishEnvelopes(envelopes: readonly AnyEventEnvelope[]): Promise<void>;

  /** Subscribes to an event type or an AMQP topic pattern (`app.*`, `*.created`, `app.#`, `#`). */
  abstract subscribe<P extends string>(pattern: P, handler: EventHandler<EnvelopeFor<P>>, options?: SubscribeOptions): Promise<Subscription>;

  /** Stops the subscription's consumer, lets its in-flight handlers finish, then releases it. */
  abstract unsubscribe(subscription: Subscription): Promise<void>;

  /** Lists (without removing) the dead letters of a subscription, oldest first. */
  abstract deadLetters(subscription: Subscription, limit?: number): Promise<DeadLetter[]>;

  abstract health(): EventBusHealth;

  /** Runs `listener` whenever the connection came back; events may have been missed meanwhile. */
  abstract onReconnect(listener: () => void): () => void;

  /** Stops consuming, finishes in-flight handlers (bounded), waits for pending publishes, disconnects. */
  abstract close(): Promise<void>;
}
