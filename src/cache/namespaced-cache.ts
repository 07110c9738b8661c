import { CacheKeyPattern } from './cache-key-pattern';
import { CacheNamespace, CacheValue } from './cache-namespace';
import { CacheNamespaceStats, emptyStats } from './cache-stats';
import { ResolvedNamespaceOptions } from './cache.options';
import { Clock, L1LruStore } from './l1-lru.store';
import { L2Lookup, L2Store, L2Ticket } from './l2-store';
import { FlightHandle, SingleFlight } from './single-flight';

/** Per-call options of `getOrLoad` and `set`. */
export interface CacheEntryOptions<V> {
  /**
   * Caps this entry's TTL on both levels, e.g. at a session's remaining
   * lifetime; a function gets the value (null: not found). 0 or less: not cached.
   */
  readonly maxTtlMs?: number | ((value: V | null) => number);
}

export interface GetOrLoadOptions<V> extends CacheEntryOptions<V> {
  /** Cache a `null` ("not found") result for the namespace's `negativeTtlMs`. Default true. */
  readonly cacheNull?: boolean;
}

/**
 * What L2 looked like for a key before a change; `writeThrough` needs it.
 * Take it before the change commits. Opaque to callers.
 */
export interface WriteTicket {
  /** Undefined: no L2, or Redis did not answer (the write-through then invalidates). */
  readonly l2: L2Ticket | undefined;
}

/**
 * Whether a cached value (null: cached "not found") is at least as new as a
 * given change, e.g. `(cached) => cached !== null && cached.version >= 7`.
 */
export type UpToDate<V> = (cached: V | null) => boolean;

/**
 * One namespace of the cache: L1 in process, then L2 in Redis when
 * configured, then the caller's loader (the database).
 *
 * `null` means "not found" and is cached like a value, for the shorter
 * `negativeTtlMs` (negative caching: a storm of lookups of an unknown app
 * does not reach the database). `undefined` means "not cached".
 *
 * Values are stored as JSON would give them back (see CacheValue), so L1 and
 * L2 hand out the same shape; the object is shared by every caller that gets
 * it from L1, so treat it as read-only.
 *
 * No method throws because of Redis: when it is unreachable, reads fall back
 * to the loader and the failure is counted in `redisErrors`.
 */
export class NamespacedCache<V extends CacheValue> {
  private readonly l1: L1LruStore<V | null>;
  private readonly loads = new SingleFlight<V | null>();
  /** `get` reads of L2, kept apart from loads so a `get` never runs or waits for a loader. */
  private readonly peeks = new SingleFlight<V | null | undefined>();
  private readonly counters = emptyStats();

  constructor(
    readonly name: CacheNamespace,
    private readonly options: ResolvedNamespaceOptions,
    clock: Clock,
    /** Undefined: L1 only. */
    private readonly l2: L2Store<V> | undefined,
  ) {
    this.l1 = new L1LruStore(options.l1MaxEntries, clock);
  }

  /** The cached value (null: cached "not found"), or undefined when neither level has it. Never loads. */
  async get(key: string): Promise<V | null | undefined> {
    const cached = this.readL1(key);
    if (cached !== undefined || !this.l2) return cached;
    return this.peeks.run(key, async (flight) => {
      const lookup = await this.readL2(key);
      if (lookup?.status !== 'hit') return undefined;
      this.keepInL1(key, lookup.value, flight, {});
      return lookup.value;
    });
  }

  /**
   * The cached value, or the loader's result, cached on both levels. Concurrent
   * misses of one key share one L2 read and one loader call; a rejection goes
   * to all of them and is not cached. A load that an invalidation overtakes
   * still answers its callers but is not cached, and later callers load anew.
   */
  async getOrLoad(key: string, loader: () => Promise<V | null>, options: GetOrLoadOptions<V> = {}): Promise<V | null> {
    return this.getOrLoadNow(key, loader, options);
  }

  /**
   * `getOrLoad` for a caller on the hot path: the L1 value itself, without a
   * promise, when L1 has it; otherwise exactly what `getOrLoad` returns. Each
   * promise and `await` costs a request more than the L1 lookup does (every
   * promise also runs the async hooks AsyncLocalStorage installs).
   */
  getOrLoadNow(key: string, loader: () => Promise<V | null>, options: GetOrLoadOptions<V> = {}): V | null | Promise<V | null> {
    const cached = this.readL1(key);
    if (cached !== undefined) return cached;
    return this.loads.run(key, (flight) => this.loadThroughL2(key, loader, options, flight));
  }

  /**
   * Stores `value` (null: "not found") as the newest value of `key` on both
   * levels: an entry cached or being loaded elsewhere is outdated by it.
   * Writers normally `invalidate` instead and let the next read load.
   */
  async set(key: string, value: V | null, options: CacheEntryOptions<V> = {}): Promise<void> {
    this.detachFlights((k) => k === key);
    const stored = asStored(value);
    this.l1.set(key, stored, this.ttlFor(stored, this.options.l1TtlMs, options));
    if (this.l2 && !(await this.l2.replace(key, stored, this.ttlFor(stored, this.options.l2TtlMs, options)))) this.counters.redisErrors++;
  }

  /**
   * The ticket for a `writeThrough` of `key`. Take it before the change
   * commits — e.g. start it with the transaction and await it inside — and
   * pass it after the commit. One Redis round trip; never fails.
   */
  async writeTicket(key: string): Promise<WriteTicket> {
    return { l2: this.l2 && (await this.l2.ticket(key)) };
  }

  /**
   * Stores `value`, the result of a change just committed, as the entry of
   * `key` on both levels, so that the next read here and on every other
   * instance is served from L2 instead of each instance loading it from the
   * database. Resolves once Redis has it (or failed).
   *
   * What makes it safe against late and concurrent writers, and what it
   * requires of the caller:
   * - Each change has a version, unique and growing in commit order (e.g.
   *   the row is locked while it changes), which `upToDate` compares.
   * - L1 keeps what it holds if `upToDate` says it is at least as new: a
   *   later change written here first.
   * - L2 stores the value only if nothing acted on the key in Redis since
   *   `ticket` was taken, before the commit (REPLACE_IF_CURRENT); otherwise
   *   the key is invalidated (a load, never a stale value). A later change
   *   acts on Redis only after its own commit: after this write, superseding
   *   it, or before, and then this write finds the key changed. Loads that
   *   read before are outdated either way.
   * - Every instance, this one included, runs `invalidateUnlessUpToDate`
   *   when the change's event arrives.
   * - Call it right after the commit, with nothing awaited in between: L1
   *   takes the value before Redis does.
   */
  async writeThrough(key: string, value: V, ticket: WriteTicket, upToDate: UpToDate<V>): Promise<void> {
    this.detachFlights((k) => k === key);
    const stored = asStored(value);
    const cached = this.l1.get(key);
    if (cached === undefined || !upToDate(cached)) this.l1.set(key, stored, this.ttlFor(stored, this.options.l1TtlMs, {}));
    if (!this.l2) return;
    const ttlMs = this.ttlFor(stored, this.options.l2TtlMs, {});
    if (!ticket.l2) {
      if (!(await this.l2.invalidate(key))) this.counters.redisErrors++;
      return;
    }
    const outcome = await this.l2.replaceIfCurrent(key, stored, ticket.l2, ttlMs);
    if (outcome === 'stored') this.counters.l2WritesThrough++;
    else if (outcome === 'invalidated') this.counters.l2WritesThroughRefused++;
    else this.counters.redisErrors++;
  }

  /**
   * What every instance does when a change of `key` is announced whose
   * writer stored the result (`writeThrough`): drops `key` from L1 and L2
   * unless the cached value is already `upToDate`, so the writer's entry
   * keeps serving every instance from L2. The L1 entry goes at once (this is
   * what makes the change visible here). L2 is read, and invalidated unless
   * it holds an up-to-date entry: when it holds an older one or none (the
   * event may have overtaken the writer's own write, and a load that read
   * the old row may be about to store it), and when Redis does not answer.
   * Resolves once Redis has it (or failed).
   */
  async invalidateUnlessUpToDate(key: string, upToDate: UpToDate<V>): Promise<void> {
    const dropFromL1 = () => {
      const cached = this.l1.get(key);
      if (cached !== undefined && upToDate(cached)) return;
      this.detachFlights((k) => k === key);
      this.l1.delete(key);
    };
    dropFromL1();
    if (!this.l2) return;
    const lookup = await this.l2.read(key);
    if (lookup.status === 'hit' && upToDate(lookup.value)) return;
    const invalidated = await this.l2.invalidate(key);
    // A read here after the drop above may have taken the outdated L2 entry meanwhile, and kept it: drop that too.
    dropFromL1();
    if (!invalidated) this.counters.redisErrors++;
  }

  /** Drops `key` from L1 and makes it unreadable in L2 for every instance; resolves once Redis has it (or failed). */
  async invalidate(key: string): Promise<void> {
    this.detachFlights((k) => k === key);
    this.l1.delete(key);
    if (this.l2 && !(await this.l2.invalidate(key))) this.counters.redisErrors++;
  }

  /**
   * Drops every key matching `pattern` — a glob where `*` matches any run of
   * characters (`:` included) and `?` one, e.g. `user:42:*` — from L1, and
   * makes them unreadable in L2 for every instance (L2 may drop more: the
   * enclosing segment prefix, when a wildcard sits inside a segment).
   */
  async invalidatePattern(pattern: string): Promise<void> {
    const parsed = new CacheKeyPattern(pattern);
    const matches = (key: string) => parsed.matches(key);
    this.detachFlights(matches);
    this.l1.deleteWhere(matches);
    if (this.l2 && !(await this.l2.invalidatePattern(pattern))) this.counters.redisErrors++;
  }

  /** Empties L1 (L2 is untouched), e.g. after a bus reconnect, when invalidation events may have been missed. */
  flushL1(): void {
    this.detachFlights(() => true);
    this.l1.clear();
  }

  /** Hit, miss and load counters of this namespace, and its L1 size. */
  stats(): CacheNamespaceStats {
    return { ...this.counters, l1Entries: this.l1.size };
  }

  private async loadThroughL2(key: string, loader: () => Promise<V | null>, options: GetOrLoadOptions<V>, flight: FlightHandle): Promise<V | null> {
    const lookup = await this.readL2(key);
    if (lookup?.status === 'hit') {
      this.keepInL1(key, lookup.value, flight, options);
      return lookup.value;
    }

    this.counters.loads++;
    let value: V | null;
    try {
      value = asStored(await loader());
    } catch (error) {
      this.counters.loadErrors++;
      throw error;
    }
    if ((value === null && options.cacheNull === false) || flight.detached) return value;

    this.keepInL1(key, value, flight, options);
    if (lookup?.status === 'miss') {
      const written = await this.l2!.write(key, value, lookup.stamp, this.ttlFor(value, this.options.l2TtlMs, options));
      if (!written) this.counters.redisErrors++;
    }
    return value;
  }

  private readL1(key: string): V | null | undefined {
    const cached = this.l1.get(key);
    if (cached === undefined) this.counters.l1Misses++;
    else this.counters.l1Hits++;
    return cached;
  }

  /** Undefined when there is no L2; counts the outcome otherwise. */
  private async readL2(key: string): Promise<L2Lookup<V> | undefined> {
    if (!this.l2) return undefined;
    const lookup = await this.l2.read(key);
    if (lookup.status === 'hit') this.counters.l2Hits++;
    else if (lookup.status === 'miss') this.counters.l2Misses++;
    else this.counters.redisErrors++;
    return lookup;
  }

  private keepInL1(key: string, value: V | null, flight: FlightHandle, options: CacheEntryOptions<V>): void {
    if (!flight.detached) this.l1.set(key, value, this.ttlFor(value, this.options.l1TtlMs, options));
  }

  private ttlFor(value: V | null, levelTtlMs: number, options: CacheEntryOptions<V>): number {
    const cap = typeof options.maxTtlMs === 'function' ? options.maxTtlMs(value) : options.maxTtlMs ?? Infinity;
    return Math.min(levelTtlMs, value === null ? this.options.negativeTtlMs : Infinity, cap);
  }

  /** Loads and L2 reads running for these keys may predate the change: their results must not be stored. */
  private detachFlights(matches: (key: string) => boolean): void {
    this.loads.detach(matches);
    this.peeks.detach(matches);
  }
}

/**
 * The value as it will come back from Redis, so L1 and L2 never differ in
 * shape (a Date would be a Date from L1 and a string from L2) and a caller
 * mutating the object it passed in cannot change what is cached.
 */
function asStored<V>(value: V | null | undefined): V | null {
  return value === undefined || value === null ? null : (JSON.parse(JSON.stringify(value)) as V);
}
