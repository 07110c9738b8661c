/** Milliseconds since some fixed point; injected so tests can move time. */
export type Clock = () => number;

interface L1Entry<V> {
  readonly value: V;
  readonly expiresAt: number;
}

/**
 * The in-process level: a bounded LRU with a TTL per entry. A `Map` keeps
 * insertion order, so re-inserting a key on every hit makes the first key the
 * least recently used one, and eviction is `keys().next()`: O(1), no list.
 * Expired entries are dropped when touched; the bound keeps the rest in check.
 */
export class L1LruStore<V> {
  private readonly entries = new Map<string, L1Entry<V>>();

  constructor(
    /** At most this many entries; 0 turns this level off. */
    readonly maxEntries: number,
    private readonly clock: Clock,
  ) {}

  /** The live value under `key` (now the most recently used), or undefined. */
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= this.clock()) return undefined;
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Stores `value` for `ttlMs`, evicting the least recently used entries beyond the bound. */
  set(key: string, value: V, ttlMs: number): void {
    this.entries.delete(key);
    if (ttlMs <= 0 || this.maxEntries <= 0) return;
    this.entries.set(key, { value, expiresAt: this.clock() + ttlMs });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** Drops every entry whose key satisfies `matches`; O(n), used only by pattern invalidation. */
  deleteWhere(matches: (key: string) => boolean): void {
    for (const key of this.entries.keys()) if (matches(key)) this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  /** Entries held, expired ones not yet dropped included. */
  get size(): number {
    return this.entries.size;
  }

  /** Keys from least to most recently used (tests and diagnostics). */
  keys(): string[] {
    return [...this.entries.keys()];
  }
}
