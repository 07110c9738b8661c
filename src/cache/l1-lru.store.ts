/** Milliseconds since some fixed point; injected so tests can move time. */
export type Clock = () => number;

/** An entry, linked into the recency list: `older` towards the least recently used end. */
interface L1Node<V> {
  readonly key: string;
  value: V;
  expiresAt: number;
  older: L1Node<V> | undefined;
  newer: L1Node<V> | undefined;
}

/**
 * The in-process level: a bounded LRU with a TTL per entry.
 *
 * A `Map` finds the entry; a doubly linked list through the entries keeps
 * their recency, the least recently used at the head. A hit relinks one node
 * (a few pointer writes) and leaves the `Map` alone: re-inserting the key on
 * every hit, which also keeps a `Map` in recency order, turned each read into a
 * delete and an insert, and the tombstones those leave make the table rehash
 * often. Reads are the hot path of every request (the session, its grants, the
 * data), so they stay that cheap. Eviction takes the head: O(1). Expired
 * entries are dropped when touched; the bound keeps the rest in check.
 */
export class L1LruStore<V> {
  private readonly entries = new Map<string, L1Node<V>>();
  /** Least recently used. */
  private head: L1Node<V> | undefined;
  /** Most recently used. */
  private tail: L1Node<V> | undefined;

  constructor(
    /** At most this many entries; 0 turns this level off. */
    readonly maxEntries: number,
    private readonly clock: Clock,
  ) {}

  /** The live value under `key` (now the most recently used), or undefined. */
  get(key: string): V | undefined {
    const node = this.entries.get(key);
    if (node === undefined) return undefined;
    if (node.expiresAt <= this.clock()) {
      this.remove(node);
      return undefined;
    }
    if (node !== this.tail) {
      this.unlink(node);
      this.append(node);
    }
    return node.value;
  }

  /** Stores `value` for `ttlMs`, evicting the least recently used entries beyond the bound. */
  set(key: string, value: V, ttlMs: number): void {
    const existing = this.entries.get(key);
    if (existing !== undefined) this.remove(existing);
    if (ttlMs <= 0 || this.maxEntries <= 0) return;
    const node: L1Node<V> = { key, value, expiresAt: this.clock() + ttlMs, older: undefined, newer: undefined };
    this.entries.set(key, node);
    this.append(node);
    while (this.entries.size > this.maxEntries) this.remove(this.head!);
  }

  delete(key: string): void {
    const node = this.entries.get(key);
    if (node !== undefined) this.remove(node);
  }

  /** Drops every entry whose key satisfies `matches`; O(n), used only by pattern invalidation. */
  deleteWhere(matches: (key: string) => boolean): void {
    for (let node = this.head; node !== undefined; ) {
      const next = node.newer;
      if (matches(node.key)) this.remove(node);
      node = next;
    }
  }

  clear(): void {
    this.entries.clear();
    this.head = this.tail = undefined;
  }

  /** Entries held, expired ones not yet dropped included. */
  get size(): number {
    return this.entries.size;
  }

  /** Keys from least to most recently used (tests and diagnostics). */
  keys(): string[] {
    const keys: string[] = [];
    for (let node = this.head; node !== undefined; node = node.newer) keys.push(node.key);
    return keys;
  }

  private remove(node: L1Node<V>): void {
    this.entries.delete(node.key);
    this.unlink(node);
  }

  private append(node: L1Node<V>): void {
    node.older = this.tail;
    node.newer = undefined;
    if (this.tail === undefined) this.head = node;
    else this.tail.newer = node;
    this.tail = node;
  }

  private unlink(node: L1Node<V>): void {
    if (node.older === undefined) this.head = node.newer;
    else node.older.newer = node.newer;
    if (node.newer === undefined) this.tail = node.older;
    else node.newer.older = node.older;
    node.older = node.newer = undefined;
  }
}
