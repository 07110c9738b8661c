/**
 * What the L2 generations were when a read missed. A write carries it, so a
 * value loaded before an invalidation is not stored. Opaque to callers.
 */
export interface L2Stamp {
  readonly generations: readonly (string | null)[];
  /** Clock time of the read; a write much later than this is skipped (see RedisL2Store.write). */
  readonly readAt: number;
}

/** What a writer saw of a key before its change: the stamp of a read, and a digest of the entry then. Opaque to callers. */
export interface L2Ticket extends L2Stamp {
  /** SHA-1 (hex) of the entry as stored, '' when there was none. */
  readonly entryDigest: string;
}

export type L2Lookup<V> =
  | { readonly status: 'hit'; readonly value: V | null }
  | { readonly status: 'miss'; readonly stamp: L2Stamp }
  /** Redis could not help right now (down, timed out, recovering); go on without it. */
  | { readonly status: 'unavailable' };

/**
 * The shared level of one namespace. Implementations never throw: trouble
 * with Redis comes back as `unavailable` or `false`, so a request can always
 * fall back to L1 and the database.
 */
export abstract class L2Store<V> {
  /** The live entry under `key`, or a miss with the stamp a later `write` needs. */
  abstract read(key: string): Promise<L2Lookup<V>>;

  /** Stores a value loaded after the miss that produced `stamp`; false when Redis failed. */
  abstract write(key: string, value: V | null, stamp: L2Stamp, ttlMs: number): Promise<boolean>;

  /** Stores `value` as the newest one: whatever was cached or being loaded for `key` is outdated; false when Redis failed. */
  abstract replace(key: string, value: V | null, ttlMs: number): Promise<boolean>;

  /** What `key` looks like right now, for a later `replaceIfCurrent`; undefined when Redis failed. */
  abstract ticket(key: string): Promise<L2Ticket | undefined>;

  /**
   * Stores `value`, the result of a committed change, if nothing about `key`
   * changed since `ticket` (taken before the commit): 'stored'; otherwise
   * invalidates `key`: 'invalidated'. 'failed' when Redis failed (it is made
   * good later, as for `invalidate`).
   */
  abstract replaceIfCurrent(key: string, value: V | null, ticket: L2Ticket, ttlMs: number): Promise<'stored' | 'invalidated' | 'failed'>;

  /** Makes the entry under `key` unreadable on every instance; false when Redis failed (it is made good later). */
  abstract invalidate(key: string): Promise<boolean>;

  /** Makes every entry matching `pattern` (and possibly more, never fewer) unreadable; false when Redis failed. */
  abstract invalidatePattern(pattern: string): Promise<boolean>;
}
