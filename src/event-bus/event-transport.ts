import { EventEnvelope } from './event-envelope';

/** How a transport should declare one subscription's queue and its retry and dead-letter queues. */
export interface QueueSpec {
  readonly name: string;
  /** Topic patterns bound to the events exchange. */
  readonly bindings: readonly string[];
  readonly durable: boolean;
  readonly autoDelete: boolean;
  /** Delete the queue (and its retry queues) after this long without consumers. */
  readonly expiresMs?: number;
  /** Unacknowledged messages one consumer may hold. */
  readonly prefetch: number;
  /** How many retry queues (one per attempt) to declare. */
  readonly retryLevels: number;
  readonly deadLetterQueue: string;
  readonly deadLetterExpiresMs?: number;
}

export interface InboundMessage {
  readonly body: Buffer;
  readonly routingKey: string;
  readonly headers: Readonly<Record<string, unknown>>;
  readonly redelivered: boolean;
  /**
   * Set only by a transport that delivers within the process: the envelope
   * exactly as this process published it — validated then, and frozen — so the
   * consumer need not decode and validate it again.
   */
  readonly envelope?: EventEnvelope;
}

/** How a consumer settles a message. Each call acknowledges the original only once its copy is safely stored. */
export interface MessageSettlement {
  /** Acknowledges at once (an AMQP ack needs no reply); throws when the channel is gone. Synchronous: it runs for every message. */
  ack(): void;
  /** Moves the message to the retry queue for `attempt`, to come back after `delayMs`. */
  retry(attempt: number, delayMs: number, headers: Record<string, string | number>): Promise<void>;
  deadLetter(headers: Record<string, string | number>): Promise<void>;
}

export type MessageListener = (message: InboundMessage, settlement: MessageSettlement) => void;

export interface ConsumerHandle {
  /** True while the broker is delivering to this consumer. */
  readonly consuming: boolean;
  /** Stops new deliveries; messages already delivered stay unacknowledged until settled. */
  stop(): Promise<void>;
  /** Releases the consumer; unsettled messages go back to the queue. */
  close(): Promise<void>;
}

export interface OutboundMessage {
  readonly envelope: EventEnvelope;
  /** The envelope as JSON, encoded on first use: an in-process delivery may never need the bytes. */
  readonly body: Buffer;
}

export function outboundMessage(envelope: EventEnvelope): OutboundMessage {
  return new LazilyEncodedMessage(envelope);
}

class LazilyEncodedMessage implements OutboundMessage {
  private encoded?: Buffer;

  constructor(readonly envelope: EventEnvelope) {}

  get body(): Buffer {
    return (this.encoded ??= Buffer.from(JSON.stringify(this.envelope)));
  }
}

export interface DeadLetterRecord {
  readonly body: Buffer;
  readonly headers: Readonly<Record<string, unknown>>;
}

/**
 * The seam between the EventBus and a broker. Transports move bytes and
 * declare queues; everything with meaning (envelopes, validation, retries,
 * dead-letter reasons) happens once, in the bus, for both transports.
 */
export abstract class EventTransport {
  abstract readonly kind: 'memory' | 'rabbitmq';
  abstract connect(): Promise<void>;
  abstract isConnected(): boolean;
  /** Resolves once the broker has accepted every message (publisher confirms); rejects otherwise. */
  abstract publish(messages: readonly OutboundMessage[]): Promise<void>;
  abstract consume(spec: QueueSpec, listener: MessageListener): Promise<ConsumerHandle>;
  /** Reads dead letters without removing them. */
  abstract peekDeadLetters(queue: string, limit: number): Promise<DeadLetterRecord[]>;
  /** Called after the connection came back (events may have been missed meanwhile). */
  abstract onReconnect(listener: () => void): () => void;
  abstract close(): Promise<void>;
}
