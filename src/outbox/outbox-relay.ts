import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { UnitOfWork } from '../database/unit-of-work';
import { delay } from '../event-bus/concurrency';
import { EventBusClosedError, EventValidationError } from '../event-bus/errors';
import { EventBus } from '../event-bus/event-bus';
import { backoffDelay } from '../event-bus/retry-policy';
import { OUTBOX_MODULE_OPTIONS, ResolvedOutboxOptions } from './outbox-module.options';
import { OutboxMessage } from './outbox-message.entity';
import { OutboxMessageRepository, RELAY_LOCK_TAKEN_ELSEWHERE } from './outbox-message.repository';

/** What one batch came to. */
interface BatchOutcome {
  readonly published: OutboxMessage[];
  readonly failed: Array<{ readonly message: OutboxMessage; readonly error: string }>;
  /** The bus refuses all publishing (it was closed): stop, the rows wait for the next start. */
  readonly busClosed: boolean;
}

interface PassResult {
  readonly published: number;
  /** Another instance's relay holds the lock. */
  readonly busy: boolean;
  readonly busClosed: boolean;
  /** When the earliest event that failed in this pass may be tried again, in ms from now. */
  readonly retryInMs?: number;
}

const EMPTY: BatchOutcome = { published: [], failed: [], busClosed: false };
const BUSY: PassResult = { published: 0, busy: true, busClosed: false };
const IDLE: PassResult = { published: 0, busy: false, busClosed: false };
/**
 * How soon to look again while another instance relays: it may have taken its
 * batch before our commit. Short at first, because a commit that meets another
 * instance's pass waits this long to be published (cache invalidation on the
 * other instances with it); sweeps take the lock only when something is due,
 * so this is two instances relaying at once. Backing off (backoffDelay: doubling, with jitter) up to
 * the maximum while the lock stays taken, so a relay held up by a slow broker
 * is not asked a hundred times a second.
 */
const BUSY_RETRY_MIN_MS = 10;
const BUSY_RETRY_MAX_MS = 160;
/** Purge at least this often (less often never matters: rows only need to go eventually). */
const MAX_PURGE_INTERVAL_MS = 60_000;

/**
 * Publishes committed outbox rows through the EventBus, oldest first, and marks
 * them published once the broker has confirmed them. Woken right after each
 * commit that recorded events, and sweeping periodically for anything else.
 * A failed publish leaves the rows waiting, with the attempt and error noted,
 * and is retried with backoff until the broker accepts; rows of other
 * aggregates go on meanwhile (an event that can never be published, e.g. one
 * the catalog no longer accepts, holds back only its own aggregate).
 *
 * Delivery is at least once: a crash between the broker's confirm and the
 * commit of "published" publishes that batch again after restart.
 *
 * On PostgreSQL, with several instances: each pass takes a transaction-level
 * advisory lock (one relay at a time, so per-aggregate order holds across
 * instances), claims rows `FOR UPDATE SKIP LOCKED`, publishes, marks and
 * commits. On the embedded database (one process) the batch is read, published
 * outside the database lock (so requests are not held up by the broker), then marked.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(OutboxRelay.name);
  private loop?: Promise<void>;
  private stopped = false;
  /** A wake() arrived since the current pass began: run another pass instead of idling. */
  private wakeRequested = false;
  /** Aborted by wake() and stop() to end the current idle wait. */
  private idleWaker = new AbortController();
  private lastPurgeAt = 0;
  private inFlight = 0;
  private passCount = 0;
  /** Passes in a row that found the lock taken (the busy backoff's attempt); 0 once a pass gets it. */
  private busyPasses = 0;

  constructor(
    private readonly bus: EventBus,
    private readonly unitOfWork: UnitOfWork,
    private readonly messages: OutboxMessageRepository,
    @Inject(OUTBOX_MODULE_OPTIONS) private readonly options: ResolvedOutboxOptions,
  ) {}

  onApplicationBootstrap(): void {
    if (this.options.relayEnabled) this.start();
  }

  /** Nest's shutdown: runs before the bus closes when OutboxModule is imported after EventBusModule. */
  onModuleDestroy(): Promise<void> {
    return this.stop();
  }

  /** Starts relaying; done at bootstrap unless the module option `relayEnabled` is false. */
  start(): void {
    if (this.loop || this.stopped) return;
    this.loop = this.relayUntilStopped();
  }

  /** Asks for a pass now; cheap, and several calls before the pass begins make one pass. */
  wake(): void {
    this.wakeRequested = true;
    this.idleWaker.abort();
  }

  /** Stops relaying; a batch in flight is published and marked first. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.idleWaker.abort();
    await this.loop;
  }

  /** Passes run since the start, sweeps that found nothing included. */
  get passes(): number {
    return this.passCount;
  }

  /** Events being published right now (0 between batches). */
  get publishing(): number {
    return this.inFlight;
  }

  /** Unpublished rows in the outbox, this instance's or not. */
  countPending(): Promise<number> {
    return this.unitOfWork.read((manager) => this.messages.countPending(manager));
  }

  private async relayUntilStopped(): Promise<void> {
    // A pass that only sweeps (the timer, not a commit of ours, more rows or a lock to retry) looks before it locks.
    let sweeping = true;
    while (!this.stopped) {
      const woken = this.wakeRequested;
      this.wakeRequested = false;
      let pass: PassResult;
      try {
        pass = await this.relayBatch(sweeping && !woken);
      } catch (error) {
        // The database, most likely (e.g. PostgreSQL restarting): the sweep tries again.
        this.logger.error(`Outbox relay pass failed: ${(error as Error).message}`, (error as Error).stack);
        pass = { published: 0, busy: false, busClosed: false };
      }
      this.passCount++;
      await this.purgeIfDue();
      if (pass.busClosed) {
        this.logger.log('The event bus is closed; the outbox relay stops and unpublished events wait for the next start');
        return;
      }
      this.busyPasses = pass.busy ? this.busyPasses + 1 : 0;
      sweeping = pass.published === 0 && !pass.busy;
      // Something went out: there may be more (a full batch, or rows committed meanwhile).
      if (pass.published > 0) continue;
      await this.idle(
        pass.busy ? backoffDelay(this.busyPasses, BUSY_RETRY_MIN_MS, BUSY_RETRY_MAX_MS) : Math.min(pass.retryInMs ?? Infinity, this.options.sweepIntervalMs),
      );
    }
  }

  private async idle(ms: number): Promise<void> {
    if (this.wakeRequested || this.stopped) return;
    this.idleWaker = new AbortController();
    await delay(ms, this.idleWaker.signal);
  }

  private async relayBatch(sweeping: boolean): Promise<PassResult> {
    if (this.unitOfWork.kind !== 'postgres') return this.relayBatchEmbedded();
    // A sweep that finds nothing due takes no lock: an idle instance's sweeps never hold up the relay of
    // an instance that just committed (which would otherwise back off for 10 ms or more).
    if (sweeping && !(await this.unitOfWork.read((manager) => this.messages.anyDue(manager, new Date())))) return IDLE;
    return this.relayBatchHoldingLock();
  }

  private relayBatchHoldingLock(): Promise<PassResult> {
    return this.unitOfWork.run(async (tx) => {
      const batch = await this.messages.claimDue(tx, new Date(), this.options.batchSize);
      if (batch === RELAY_LOCK_TAKEN_ELSEWHERE) return BUSY;
      const outcome = await this.publish(batch);
      return this.markOutcome(tx, outcome);
    });
  }

  private async relayBatchEmbedded(): Promise<PassResult> {
    const batch = await this.unitOfWork.read((manager) => this.messages.findDue(manager, new Date(), this.options.batchSize));
    const outcome = await this.publish(batch);
    if (outcome.published.length === 0 && outcome.failed.length === 0) return this.markOutcome(undefined, outcome);
    return this.unitOfWork.run((tx) => this.markOutcome(tx, outcome));
  }

  private async publish(batch: OutboxMessage[]): Promise<BatchOutcome> {
    if (batch.length === 0) return EMPTY;
    this.inFlight = batch.length;
    try {
      await this.bus.publishEnvelopes(batch.map((message) => message.envelope));
      return { published: batch, failed: [], busClosed: false };
    } catch (error) {
      if (error instanceof EventBusClosedError) return { ...EMPTY, busClosed: true };
      // Validation runs before anything is sent: find the culprit, let the rest of the batch go.
      if (error instanceof EventValidationError && batch.length > 1) return await this.publishOneByOne(batch);
      return { published: [], failed: batch.map((message) => ({ message, error: describe(error) })), busClosed: false };
    } finally {
      this.inFlight = 0;
    }
  }

  private async publishOneByOne(batch: OutboxMessage[]): Promise<BatchOutcome> {
    const published: OutboxMessage[] = [];
    const failed: Array<{ message: OutboxMessage; error: string }> = [];
    // Aggregates with a failed event in this batch: their later events must not overtake it.
    const held = new Set<string>();
    for (const message of batch) {
      const aggregate = `${message.aggregateType}/${message.aggregateId}`;
      if (held.has(aggregate)) continue;
      try {
        await this.bus.publishEnvelopes([message.envelope]);
        published.push(message);
      } catch (error) {
        if (error instanceof EventBusClosedError) return { published, failed, busClosed: true };
        failed.push({ message, error: describe(error) });
        held.add(aggregate);
        // The broker itself refuses: the rest will fare no better now; they stay due for the next pass.
        if (!(error instanceof EventValidationError)) break;
      }
    }
    return { published, failed, busClosed: false };
  }

  private async markOutcome(tx: EntityManager | undefined, outcome: BatchOutcome): Promise<PassResult> {
    const now = Date.now();
    let retryInMs: number | undefined;
    if (tx) {
      await this.messages.markPublished(
        tx,
        outcome.published.map((message) => message.seq),
        new Date(now),
      );
      for (const { message, error } of outcome.failed) {
        const wait = backoffDelay(message.attempts + 1, this.options.retryDelayMs, this.options.maxRetryDelayMs);
        retryInMs = Math.min(retryInMs ?? wait, wait);
        await this.messages.markFailed(tx, message, error, new Date(now + wait));
      }
    }
    if (outcome.failed.length > 0) {
      const first = outcome.failed[0];
      this.logger.warn(
        `Could not publish ${outcome.failed.length} outbox event(s), e.g. ${first.message.type} ${first.message.eventId} ` +
          `(attempt ${first.message.attempts + 1}): ${first.error}; retrying in ${retryInMs} ms`,
      );
    }
    return { published: outcome.published.length, busy: false, busClosed: outcome.busClosed, retryInMs };
  }

  private async purgeIfDue(): Promise<void> {
    const now = Date.now();
    if (now - this.lastPurgeAt < Math.min(this.options.retentionMs, MAX_PURGE_INTERVAL_MS)) return;
    this.lastPurgeAt = now;
    try {
      const cutoff = new Date(now - this.options.retentionMs);
      const deleted = await this.unitOfWork.run((tx) => this.messages.deletePublishedBefore(tx, cutoff));
      if (deleted > 0) this.logger.debug(`Deleted ${deleted} published outbox row(s) older than ${this.options.retentionMs} ms`);
    } catch (error) {
      this.logger.warn(`Could not purge published outbox rows: ${(error as Error).message}`);
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
