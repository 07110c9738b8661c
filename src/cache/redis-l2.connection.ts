import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { withTimeout } from '../event-bus/concurrency';
import { ReconnectBackoff } from '../event-bus/transports/reconnect-backoff';
import { CACHE_NAMESPACES, CacheNamespace } from './cache-namespace';
import { CacheRedisOptions } from './cache.options';
import { Clock } from './l1-lru.store';
import { L2KeyLayout } from './l2-key-layout';

/** Returned instead of a result when Redis could not be asked or did not answer. */
export const L2_UNAVAILABLE: unique symbol = Symbol('L2_UNAVAILABLE');

export type L2Status = 'ready' | 'unavailable';

/**
 * The one Redis connection of a CacheService, and the rules for using it
 * while Redis may be away:
 *
 * - Fail fast. No offline queue, no retried commands, a short command
 *   timeout: a request never waits for Redis to come back, it goes on with
 *   L1 and the database. After a failure, reads and writes skip Redis for
 *   `retryAfterFailureMs` instead of each waiting out a timeout.
 * - Lose no invalidation. When an invalidation may not have reached Redis
 *   (it failed, or the connection dropped with it in flight) its namespace is
 *   marked; a dropped connection marks every namespace, because Redis may have
 *   restarted from an older snapshot or peers may have lost theirs. Before the
 *   next read or write of a marked namespace, its epoch (see L2KeyLayout) gets
 *   a new token, retiring every entry written before. Marks live in this
 *   process: they are made good as soon as Redis answers, and TTLs bound what
 *   a crash in between could leave behind.
 */
export class RedisL2Connection {
  private readonly logger = new Logger('Cache');
  readonly client: Redis;
  /** Namespaces whose epoch must be bumped before L2 serves them again. */
  private staleNamespaces = new Set<CacheNamespace>();
  private epochBump: Promise<boolean> | undefined;
  private skipUntil = 0;
  private reportedDown = false;
  private closing = false;

  constructor(
    url: string,
    private readonly options: Required<CacheRedisOptions>,
    private readonly layout: L2KeyLayout,
    /** How long a generation token lives in a namespace (twice its L2 TTL, see L2KeyLayout). */
    private readonly generationTtlMs: (namespace: CacheNamespace) => number,
    private readonly clock: Clock,
  ) {
    const backoff = new ReconnectBackoff(options.reconnectMinDelayMs, options.reconnectMaxDelayMs);
    this.client = new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: options.commandTimeoutMs,
      connectTimeout: options.connectTimeoutMs,
      // On shutdown while Redis is away, ioredis otherwise keeps the dead socket (and the process) 2 s longer.
      disconnectTimeout: options.commandTimeoutMs,
      retryStrategy: () => backoff.next(),
      connectionName: options.connectionName,
    });
    this.client.on('ready', () => {
      backoff.reset();
      this.skipUntil = 0;
      this.reportUp();
      void this.renewStaleEpochs();
    });
    this.client.on('close', () => {
      for (const namespace of CACHE_NAMESPACES) this.staleNamespaces.add(namespace);
      if (!this.closing) this.reportDown('connection closed');
    });
    // Without a listener ioredis prints every failed reconnect attempt; one line per outage is enough.
    this.client.on('error', (error: Error) => this.reportDown(error.message));
  }

  status(): L2Status {
    return this.client.status === 'ready' && this.clock() >= this.skipUntil ? 'ready' : 'unavailable';
  }

  /**
   * Runs a read or write of `namespace`, or returns L2_UNAVAILABLE without
   * asking Redis when it is down, recently failed, or the namespace's epoch
   * is not renewed yet.
   */
  async run<R>(namespace: CacheNamespace, command: (client: Redis) => Promise<R>): Promise<R | typeof L2_UNAVAILABLE> {
    if (this.status() !== 'ready') return L2_UNAVAILABLE;
    if (!(await this.epochIsCurrent(namespace))) return L2_UNAVAILABLE;
    try {
      const result = await command(this.client);
      this.reportUp();
      return result;
    } catch (error) {
      this.failed(error);
      return L2_UNAVAILABLE;
    }
  }

  /**
   * Runs an invalidation of `namespace`. It is tried whenever connected, even
   * right after a failure: a delivered invalidation spares a whole-namespace
   * epoch bump. When it may not have been applied, the namespace is marked.
   */
  async invalidate(namespace: CacheNamespace, command: (client: Redis) => Promise<unknown>): Promise<boolean> {
    if (this.client.status !== 'ready') {
      this.staleNamespaces.add(namespace);
      return false;
    }
    try {
      await command(this.client);
      this.reportUp();
      return true;
    } catch (error) {
      this.staleNamespaces.add(namespace);
      this.failed(error);
      return false;
    }
  }

  /** A fresh generation token; random, so it never repeats one an old entry holds. */
  newGeneration(): string {
    return randomBytes(9).toString('base64url');
  }

  /** Resolves true once connected, false if that takes longer than `timeoutMs`. */
  async waitUntilReady(timeoutMs: number): Promise<boolean> {
    if (this.client.status === 'ready') return true;
    let onReady = () => {};
    const ready = new Promise<void>((resolve) => this.client.once('ready', (onReady = resolve)));
    try {
      await withTimeout(ready, timeoutMs, () => new Error('timeout'));
      return true;
    } catch {
      this.client.off('ready', onReady);
      return false;
    }
  }

  /** Closes the connection: QUIT when Redis answers, a hard disconnect otherwise, and no reconnecting. */
  async close(): Promise<void> {
    this.closing = true;
    try {
      if (this.client.status === 'ready') await withTimeout(this.client.quit(), this.options.connectTimeoutMs, () => new Error('QUIT timed out'));
    } catch {
      // Nothing to do about it: disconnect below ends the connection anyway.
    } finally {
      this.client.disconnect(false);
    }
  }

  private async epochIsCurrent(namespace: CacheNamespace): Promise<boolean> {
    // Waits for a renewal in progress too: it took this namespace out of the set before it is done.
    while (this.epochBump !== undefined || this.staleNamespaces.has(namespace)) {
      if (!(await this.renewStaleEpochs())) return false;
    }
    return true;
  }

  /** Bumps the epoch of every marked namespace in one pipeline; one renewal at a time. */
  private renewStaleEpochs(): Promise<boolean> {
    this.epochBump ??= this.bumpEpochs().finally(() => (this.epochBump = undefined));
    return this.epochBump;
  }

  private async bumpEpochs(): Promise<boolean> {
    const namespaces = this.staleNamespaces;
    if (namespaces.size === 0) return true;
    // Marks added while this runs go to a new set and are renewed by the next round.
    this.staleNamespaces = new Set();
    try {
      const pipeline = this.client.pipeline();
      for (const namespace of namespaces) {
        pipeline.set(this.layout.epoch(namespace), this.newGeneration(), 'PX', this.generationTtlMs(namespace));
      }
      throwOnPipelineError(await pipeline.exec());
      this.logger.log(`Renewed the L2 epoch of ${[...namespaces].join(', ')}: entries written before are retired`);
      return true;
    } catch (error) {
      for (const namespace of namespaces) this.staleNamespaces.add(namespace);
      this.failed(error);
      return false;
    }
  }

  private failed(error: unknown): void {
    this.skipUntil = this.clock() + this.options.retryAfterFailureMs;
    this.reportDown(error instanceof Error ? error.message : String(error));
  }

  private reportUp(): void {
    if (!this.reportedDown) return;
    this.reportedDown = false;
    this.logger.log('Redis answers again; the L2 cache is back in use');
  }

  private reportDown(reason: string): void {
    if (this.reportedDown || this.closing) return;
    this.reportedDown = true;
    this.logger.warn(`Redis L2 cache unavailable (${reason}); serving from L1 and the database until it answers`);
  }
}

/** A pipeline resolves even when its commands fail; each result carries its own error. */
export function throwOnPipelineError(results: [Error | null, unknown][] | null): void {
  if (results === null) throw new Error('pipeline discarded');
  const failure = results.find(([error]) => error !== null);
  if (failure) throw failure[0];
}
