import { Logger } from '@nestjs/common';
import { isThenable, KeyedSerializer, Semaphore, withTimeout } from './concurrency';
import { NonRetryableError } from './errors';
import { EventCatalog } from './event-catalog';
import { EventContext } from './event-context';
import { EventSourceAuthorizer } from './event-source-authorizer';
import { checkEnvelopeShape, deepFreeze, EventEnvelope } from './event-envelope';
import { InboundMessage, MessageListener, MessageSettlement } from './event-transport';
import { FailureKind, MessageHeaders } from './message-headers';
import { backoffDelay, RetryPolicy } from './retry-policy';
import { TopicMatcher } from './topic-pattern';

export interface ConsumerPolicy {
  readonly retry: RetryPolicy;
  readonly handlerTimeoutMs: number;
  readonly orderByAggregate: boolean;
}

export interface ConsumerDependencies {
  readonly catalog: EventCatalog;
  readonly context: EventContext;
  /** Shared by every subscription of the bus: the overall bound on concurrent handlers. */
  readonly limiter: Semaphore;
  readonly logger: Logger;
  /** Vouches for events claiming an app as their source (`sourceAppName`). */
  readonly sourceAuthorizer: EventSourceAuthorizer;
}

type Decoded = { envelope: EventEnvelope } | { kind: FailureKind; reason: string };

const MAX_ERROR_LENGTH = 1000;

/**
 * One subscription's message pipeline, the same for both transports:
 * decode → check envelope → look up the type → validate the payload → check
 * an app source may publish it → run the handler (bounded, optionally one at a
 * time per aggregate, with a timeout) → ack, retry with backoff, or
 * dead-letter with the reason.
 */
export class EventConsumer {
  private readonly ordered?: KeyedSerializer;
  private stopping = false;
  private running = 0;
  /** Messages received and not yet settled (or given up at shutdown). A count, not a set of promises: this is the hot path. */
  private pending = 0;
  private idle?: { promise: Promise<void>; resolve: () => void };

  constructor(
    readonly handlerName: string,
    readonly queue: string,
    private readonly matches: TopicMatcher,
    private readonly handler: (event: EventEnvelope) => Promise<void> | void,
    private readonly policy: ConsumerPolicy,
    private readonly deps: ConsumerDependencies,
  ) {
    if (policy.orderByAggregate) this.ordered = new KeyedSerializer();
  }

  readonly listener: MessageListener = (message, settlement) => {
    this.pending++;
    let decoded: Decoded;
    try {
      decoded = this.decode(message);
    } catch (error) {
      decoded = { kind: 'undecodable', reason: (error as Error).message };
    }
    let work: Promise<void>;
    if ('kind' in decoded) work = this.refuse(message, settlement, decoded.kind, decoded.reason);
    else if (this.ordered) work = this.ordered.run(decoded.envelope.aggregateId, () => this.invoke(decoded.envelope, message, settlement));
    else work = this.invoke(decoded.envelope, message, settlement);
    work.then(this.processed, this.crashed);
  };

  private readonly processed = (): void => {
    if (--this.pending === 0 && this.idle) {
      this.idle.resolve();
      this.idle = undefined;
    }
  };

  private readonly crashed = (error: Error): void => {
    this.deps.logger.error(`Unexpected failure consuming from "${this.queue}": ${error.message}`, error.stack);
    this.processed();
  };

  /** Handlers currently running (not those waiting for a slot). */
  get handlersRunning(): number {
    return this.running;
  }

  /**
   * Lets running handlers finish; messages not yet started are left
   * unacknowledged so the broker gives them to another consumer.
   */
  async drain(): Promise<void> {
    this.stopping = true;
    if (this.pending === 0) return;
    if (!this.idle) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.idle = { promise, resolve };
    }
    await this.idle.promise;
  }

  private refuse(message: InboundMessage, settlement: MessageSettlement, kind: FailureKind, reason: string): Promise<void> {
    this.deps.logger.warn(`Dead-lettering a message from "${this.queue}" (${kind}): ${reason}`);
    return this.settle(settlement.deadLetter(this.failureHeaders(message, kind, reason, 0)));
  }

  private decode(message: InboundMessage): Decoded {
    // Published within this process: shape and payload were checked then, and it is frozen. Type and version are this subscription's own checks.
    if (message.envelope) return this.checkEvent(message.envelope) ?? { envelope: message.envelope };
    let value: unknown;
    try {
      value = JSON.parse(message.body.toString('utf8'));
    } catch (error) {
      return { kind: 'undecodable', reason: `body is not JSON: ${(error as Error).message}` };
    }
    const shapeProblems = checkEnvelopeShape(value);
    if (shapeProblems.length > 0) return { kind: 'invalid-envelope', reason: shapeProblems.join('; ') };
    const envelope = value as EventEnvelope;
    const problems = this.checkEvent(envelope);
    if (problems) return problems;
    const payloadProblems = this.deps.catalog.validatePayload(this.deps.catalog.get(envelope.type)!, envelope.data);
    if (payloadProblems.length > 0) return { kind: 'invalid-payload', reason: payloadProblems.join('; ') };
    // Frozen as the in-memory transport's are, so handlers see the same thing on both transports.
    return { envelope: deepFreeze(envelope) };
  }

  /** Whether this subscription can handle this type, at this version; undefined when it can. */
  private checkEvent(envelope: EventEnvelope): Extract<Decoded, { kind: FailureKind }> | undefined {
    const definition = this.deps.catalog.get(envelope.type);
    if (!definition) return { kind: 'unknown-type', reason: `unknown event type "${envelope.type}"` };
    if (!this.matches(envelope.type)) {
      return { kind: 'invalid-envelope', reason: `type "${envelope.type}" does not match this subscription's pattern` };
    }
    if (envelope.version > definition.version) {
      return {
        kind: 'unsupported-version',
        reason: `"${envelope.type}" payload version ${envelope.version} is newer than the known version ${definition.version}`,
      };
    }
    return undefined;
  }

  /**
   * Runs the handler within the bus-wide bound on concurrent handlers, then
   * settles the message. One async function for the whole way: it runs for
   * every message, and each extra promise costs on the hot path.
   */
  private async invoke(envelope: EventEnvelope, message: InboundMessage, settlement: MessageSettlement): Promise<void> {
    const { limiter } = this.deps;
    if (!limiter.tryAcquire()) await limiter.acquire();
    try {
      // Not started before shutdown: leave it unacknowledged, the broker redelivers it.
      if (this.stopping) return;
      this.running++;
      let refusal: string | undefined;
      try {
        if (envelope.sourceAppName !== null) refusal = await this.refusalOfSource(envelope.sourceAppName, envelope.type);
        if (refusal === undefined) {
          const context = { correlationId: envelope.correlationId, causationId: envelope.id };
          const result: unknown = this.deps.context.run(context, this.handler, envelope);
          // A handler that finished synchronously needs no timer; any thenable is awaited, not only native promises.
          if (isThenable(result)) await withTimeout(Promise.resolve(result), this.policy.handlerTimeoutMs, this.timedOut);
        }
      } catch (error) {
        this.running--;
        return await this.handleFailure(error, envelope, message, settlement);
      }
      this.running--;
      if (refusal !== undefined) {
        this.deps.logger.warn(`Dead-lettering ${envelope.type} ${envelope.id} from "${this.queue}" (unauthorized-source): ${refusal}`);
        return await this.settle(settlement.deadLetter(this.failureHeaders(message, 'unauthorized-source', refusal, 0)));
      }
      try {
        settlement.ack();
      } catch (error) {
        this.settleFailed(error);
      }
    } finally {
      limiter.release();
    }
  }

  private readonly timedOut = () => new Error(`handler timed out after ${this.policy.handlerTimeoutMs} ms`);

  /** Why the app this event claims to come from may not publish it; undefined when it may. */
  private async refusalOfSource(sourceAppName: string, type: string): Promise<string | undefined> {
    const verdict = await this.deps.sourceAuthorizer.authorize(sourceAppName, type);
    return verdict.allowed ? undefined : verdict.reason;
  }

  private async handleFailure(error: unknown, envelope: EventEnvelope, message: InboundMessage, settlement: MessageSettlement): Promise<void> {
    const reason = error instanceof Error ? error.message : String(error);
    const failures = Number(message.headers[MessageHeaders.ATTEMPTS] ?? 0) + 1;
    const { maxRetries, initialDelayMs, maxDelayMs } = this.policy.retry;
    const nonRetryable = error instanceof NonRetryableError;
    if (nonRetryable || failures > maxRetries) {
      const kind: FailureKind = nonRetryable ? 'non-retryable' : 'retries-exhausted';
      this.deps.logger.error(`${this.handlerName} failed on ${envelope.type} ${envelope.id} (${kind}, ${failures} attempts): ${reason}`);
      return this.settle(settlement.deadLetter(this.failureHeaders(message, kind, reason, failures)));
    }
    const wait = backoffDelay(failures, initialDelayMs, maxDelayMs);
    this.deps.logger.warn(`${this.handlerName} failed on ${envelope.type} ${envelope.id} (attempt ${failures}); retrying in ${wait} ms: ${reason}`);
    const headers = this.failureHeaders(message, 'retries-exhausted', reason, failures);
    delete headers[MessageHeaders.FAILURE_KIND];
    return this.settle(settlement.retry(failures, wait, headers));
  }

  private failureHeaders(message: InboundMessage, kind: FailureKind, reason: string, attempts: number): Record<string, string | number> {
    const now = new Date().toISOString();
    return {
      [MessageHeaders.FAILURE_KIND]: kind,
      [MessageHeaders.ERROR]: reason.length > MAX_ERROR_LENGTH ? `${reason.slice(0, MAX_ERROR_LENGTH)}…` : reason,
      [MessageHeaders.ATTEMPTS]: attempts,
      [MessageHeaders.HANDLER]: this.handlerName,
      [MessageHeaders.ORIGINAL_ROUTING_KEY]: message.routingKey,
      [MessageHeaders.ORIGINAL_QUEUE]: this.queue,
      [MessageHeaders.FIRST_FAILURE_AT]: String(message.headers[MessageHeaders.FIRST_FAILURE_AT] ?? now),
      [MessageHeaders.LAST_FAILURE_AT]: now,
    };
  }

  /** A settlement that fails (connection lost) leaves the message unacknowledged: the broker redelivers it. */
  private async settle(settled: Promise<void>): Promise<void> {
    try {
      await settled;
    } catch (error) {
      this.settleFailed(error);
    }
  }

  private settleFailed(error: unknown): void {
    this.deps.logger.warn(`Could not settle a message from "${this.queue}" (${(error as Error).message}); it will be redelivered`);
  }
}
