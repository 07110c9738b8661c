import { createHash } from 'node:crypto';
import { CacheKeyPattern } from './cache-key-pattern';
import { CacheNamespace } from './cache-namespace';
import { Clock } from './l1-lru.store';
import { L2KeyLayout } from './l2-key-layout';
import { L2Lookup, L2Stamp, L2Store, L2Ticket } from './l2-store';
import { L2_UNAVAILABLE, RedisL2Connection, throwOnPipelineError } from './redis-l2.connection';
import { REPLACE, REPLACE_IF_CURRENT, runScript, WRITE_IF_CURRENT } from './l2-scripts';

/** An entry as stored in Redis: the generations it was written under, and the value (`null`: not found). */
interface StoredEntry<V> {
  readonly g: readonly (string | null)[];
  readonly v: V | null;
}

const UNAVAILABLE = { status: 'unavailable' } as const;

/** The Redis level of one namespace; the key layout and its reasons are in L2KeyLayout. */
export class RedisL2Store<V> extends L2Store<V> {
  constructor(
    private readonly connection: RedisL2Connection,
    private readonly layout: L2KeyLayout,
    private readonly namespace: CacheNamespace,
    /** The namespace's L2 TTL: no entry lives longer. */
    private readonly ttlMs: number,
    private readonly clock: Clock,
  ) {
    super();
  }

  /** One round trip: the entry and every generation it depends on, in one MGET. */
  async read(key: string): Promise<L2Lookup<V>> {
    const readAt = this.clock();
    const found = await this.entryAndGenerations(key);
    if (found === L2_UNAVAILABLE) return UNAVAILABLE;
    const [raw, ...generations] = found;
    const entry = raw === null ? undefined : parseEntry<V>(raw);
    if (entry && sameGenerations(entry.g, generations)) return { status: 'hit', value: entry.v };
    return { status: 'miss', stamp: { generations, readAt } };
  }

  /** One round trip; writes nothing if an invalidation or `set` got in since the read (see WRITE_IF_CURRENT). */
  async write(key: string, value: V | null, stamp: L2Stamp, ttlMs: number): Promise<boolean> {
    const ttl = Math.min(ttlMs, this.ttlMs);
    // A load that took longer than the TTL could outlive the generations it saw (see L2KeyLayout); it is not worth keeping.
    if (ttl <= 0 || this.clock() - stamp.readAt > this.ttlMs) return true;
    const stored = JSON.stringify({ g: stamp.generations, v: value } satisfies StoredEntry<V>);
    const keys = this.entryAndGenerationKeys(key);
    const expected = expectedGenerations(stamp);
    const written = await this.connection.run(this.namespace, (client) => runScript(client, WRITE_IF_CURRENT, keys, [stored, ttl, ...expected]));
    return written !== L2_UNAVAILABLE;
  }

  /**
   * One round trip (see REPLACE): a new generation for the key and the entry
   * stamped with it. It counts as an invalidation: when it may have failed,
   * the namespace's epoch is renewed before L2 serves it again.
   */
  async replace(key: string, value: V | null, ttlMs: number): Promise<boolean> {
    const ttl = Math.min(ttlMs, this.ttlMs);
    if (ttl <= 0) return this.invalidate(key);
    const keys = this.entryAndGenerationKeys(key);
    const args = [this.connection.newGeneration(), this.generationTtlMs, JSON.stringify(value), ttl];
    return this.connection.invalidate(this.namespace, (client) => runScript(client, REPLACE, keys, args));
  }

  /** One round trip, the MGET of `read`: the key's generations and a digest of its entry. */
  async ticket(key: string): Promise<L2Ticket | undefined> {
    const readAt = this.clock();
    const found = await this.entryAndGenerations(key);
    if (found === L2_UNAVAILABLE) return undefined;
    const [entry, ...generations] = found;
    return { generations, readAt, entryDigest: entry === null ? '' : createHash('sha1').update(entry).digest('hex') };
  }

  /**
   * One round trip (see REPLACE_IF_CURRENT). Like `replace` it renews the
   * key's generation either way, so it counts as an invalidation.
   */
  async replaceIfCurrent(key: string, value: V | null, ticket: L2Ticket, ttlMs: number): Promise<'stored' | 'invalidated' | 'failed'> {
    const ttl = Math.min(ttlMs, this.ttlMs);
    // As in `write`: a ticket older than the TTL may predate generations that have since expired.
    if (ttl <= 0 || this.clock() - ticket.readAt > this.ttlMs) return (await this.invalidate(key)) ? 'invalidated' : 'failed';
    const keys = this.entryAndGenerationKeys(key);
    const expected = expectedGenerations(ticket);
    const args = [ticket.entryDigest, ...expected, this.connection.newGeneration(), this.generationTtlMs, JSON.stringify(value), ttl];
    let stored = false;
    const done = await this.connection.invalidate(this.namespace, async (client) => {
      stored = (await runScript(client, REPLACE_IF_CURRENT, keys, args)) === 1;
    });
    return !done ? 'failed' : stored ? 'stored' : 'invalidated';
  }

  /** One round trip: a new generation for the key, and the entry deleted to free its memory at once. */
  invalidate(key: string): Promise<boolean> {
    return this.connection.invalidate(this.namespace, async (client) => {
      throwOnPipelineError(
        await client
          .pipeline()
          .set(this.layout.keyGeneration(this.namespace, key), this.connection.newGeneration(), 'PX', this.generationTtlMs)
          .del(this.layout.entry(this.namespace, key))
          .exec(),
      );
    });
  }

  /** One SET, whatever the number of entries matching: a new generation for the pattern's segment prefix. */
  invalidatePattern(pattern: string): Promise<boolean> {
    const parsed = new CacheKeyPattern(pattern);
    if (parsed.isExactKey) return this.invalidate(pattern);
    const generationKey = this.layout.prefixGeneration(this.namespace, parsed.segmentPrefix);
    return this.connection.invalidate(this.namespace, (client) =>
      client.set(generationKey, this.connection.newGeneration(), 'PX', this.generationTtlMs),
    );
  }

  /** The entry's key, then the generation keys it is stamped with: what reads fetch and scripts check. */
  private entryAndGenerationKeys(key: string): string[] {
    return [this.layout.entry(this.namespace, key), ...this.layout.generationsOf(this.namespace, key)];
  }

  /** One MGET: the raw entry (null: none), then each generation (null: never bumped). */
  private entryAndGenerations(key: string): Promise<(string | null)[] | typeof L2_UNAVAILABLE> {
    return this.connection.run(this.namespace, (client) => client.mget(...this.entryAndGenerationKeys(key)));
  }

  private get generationTtlMs(): number {
    return generationTtlFor(this.ttlMs);
  }
}

/** Twice the entries' TTL: see L2KeyLayout for why an entry must expire before any generation it saw. */
export function generationTtlFor(l2TtlMs: number): number {
  return Math.max(1, 2 * l2TtlMs);
}

/** A stamp's generations as the scripts take them: '' for "never bumped". */
function expectedGenerations(stamp: L2Stamp): string[] {
  return stamp.generations.map((generation) => generation ?? '');
}

function parseEntry<V>(raw: string): StoredEntry<V> | undefined {
  try {
    const entry = JSON.parse(raw) as StoredEntry<V>;
    return Array.isArray(entry?.g) && 'v' in entry ? entry : undefined;
  } catch {
    // Not written by this layout (or by an older one): a miss, overwritten by the next load.
    return undefined;
  }
}

function sameGenerations(written: readonly (string | null)[], current: readonly (string | null)[]): boolean {
  return written.length === current.length && written.every((generation, i) => generation === current[i]);
}
