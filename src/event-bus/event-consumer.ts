import { Logger } from '@nestjs/common';
import { KeyedSerializer, Semaphore, withTimeout } from './concurrency';
import { NonRetryableError } from './errors';
import { EventCatalog } from './event-catalog';
import { EventContext } from './event-context';
import { EventSourceAuthorizer } from './event-source-authorizer';
import { validatePayload } from './event-definition';
import { checkEnvelopeShape, EventEnvelope } from './event-envelope';
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
  private readonly inFlight = new Set<Promise<void>>();
  private readonly ordered?: KeyedSerializer;
  private stopping = false;
  private running = 0;

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
    const task = this.process(message, settlement).catch((error: Error) =>
      this.deps.logger.error(`Unexpected failure consuming from "${this.queue}": ${error.message}`, error.stack),
    );
    this.inFlight.add(task);
    void task.finally(() => this.inFlight.delete(task));
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
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async process(message: InboundMessage, settlement: MessageSettlement): Promise<void> {
    const decoded = this.decode(message);
    if ('kind' in decoded) {
      this.deps.logger.warn(`Dead-lettering a message from "${this.queue}" (${decoded.kind}): ${decoded.reason}`);
      return this.settle(() => settlement.deadLetter(this.failureHeaders(message, decoded.kind, decoded.reason, 0)));
    }
    const { envelope } = decoded;
    const run = () => this.deps.limiter.run(() => this.invoke(envelope, message, settlement));
    await (this.ordered ? this.ordered.run(envelope.aggregateId, run) : run());
  }

  private decode(message: InboundMessage): Decoded {
    let value: unknown;
    try {
      value = JSON.parse(message.body.toString('utf8'));
    } catch (error) {
      return { kind: 'undecodable', reason: `body is not JSON: ${(error as Error).message}` };
    }
    const shapeProblems = checkEnvelopeShape(value);
    if (shapeProblems.length > 0) return { kind: 'invalid-envelope', reason: shapeProblems.join('; ') };
    const envelope = value as EventEnvelope;
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
    const problems = validatePayload(definition, envelope.data);
    if (problems.length > 0) return { kind: 'invalid-payload', reason: problems.join('; ') };
    return { envelope };
  }

  private async invoke(envelope: EventEnvelope, message: InboundMessage, settlement: MessageSettlement): Promise<void> {
    // Not started before shutdown: leave it unacknowledged, the broker redelivers it.
    if (this.stopping) return;
    this.running++;
    let refusal: string | undefined;
    try {
      refusal = await this.refusalOfSource(envelope);
      if (refusal === undefined) {
        const handled = this.deps.context.run({ correlationId: envelope.correlationId, causationId: envelope.id }, async () =>
          this.handler(envelope),
        );
        await withTimeout(handled, this.policy.handlerTimeoutMs, () => new Error(`handler timed out after ${this.policy.handlerTimeoutMs} ms`));
      }
    } catch (error) {
      this.running--;
      return this.handleFailure(error, envelope, message, settlement);
    }
    this.running--;
    if (refusal !== undefined) {
      this.deps.logger.warn(`Dead-lettering ${envelope.type} ${envelope.id} from "${this.queue}" (unauthorized-source): ${refusal}`);
      return this.settle(() => settlement.deadLetter(this.failureHeaders(message, 'unauthorized-source', refusal, 0)));
    }
    await this.settle(() => settlement.ack());
  }

  /** Why the app this event claims to come from may not publish it; undefined when it may, or when no app is claimed. */
  private async refusalOfSource(envelope: EventEnvelope): Promise<string | undefined> {
    if (envelope.sourceAppName === null) return undefined;
    const verdict = await this.deps.sourceAuthorizer.authorize(envelope.sourceAppName, envelope.type);
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
      return this.settle(() => settlement.deadLetter(this.failureHeaders(message, kind, reason, failures)));
    }
    const wait = backoffDelay(failures, initialDelayMs, maxDelayMs);
    this.deps.logger.warn(`${this.handlerName} failed on ${envelope.type} ${envelope.id} (attempt ${failures}); retrying in ${wait} ms: ${reason}`);
    const headers = this.failureHeaders(message, 'retries-exhausted', reason, failures);
    delete headers[MessageHeaders.FAILURE_KIND];
    return this.settle(() => settlement.retry(failures, wait, headers));
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
  private async settle(action: () => Promise<void>): Promise<void> {
    try {
      await action();
    } catch (error) {
      this.deps.logger.warn(`Could not settle a message from "${this.queue}" (${(error as Error).message}); it will be redelivered`);
    }
  }
}
