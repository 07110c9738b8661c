import { ancestorPrefixes } from './cache-key-pattern';
import { CacheNamespace } from './cache-namespace';

/**
 * Where the L2 level keeps things in Redis, and why.
 *
 * Pattern invalidation (`user:42:*`) must not enumerate keys: KEYS blocks
 * Redis, SCAN is O(keyspace) and neither is atomic with concurrent writers.
 * Tag sets (a SET of member keys per prefix) would need every write to touch
 * one set per prefix and leave members behind that outlive their entries.
 * Instead every segment prefix has a *generation*, a random token that an
 * invalidation replaces, and every entry records the generations it was
 * written under. A read fetches the entry and all its generations in one
 * MGET and counts the entry as a miss unless they all still match:
 *
 *   <prefix>:<ns>:e:<key>       the entry: {"g":[generations…],"v":value}, PX = its TTL
 *   <prefix>:<ns>:k:<key>       the key's own generation (exact invalidation, `set`)
 *   <prefix>:<ns>:p:<segments:> one generation per segment prefix; `p:` alone (the
 *                               empty prefix) is the namespace *epoch*
 *
 * So invalidating `user:42:*` is one SET of `p:user:42:`, whatever the number
 * of entries; a read of `user:42:read` costs MGET of e:, k:, p:, p:user:,
 * p:user:42: — one round trip. A pattern with a wildcard inside a segment
 * (`user:*:read`) bumps the enclosing segment prefix (`p:user:`): more is
 * dropped than asked, never less. Entries outdated by a prefix are not
 * deleted; their PX reclaims them.
 *
 * An entry is stamped with the generations read *before* its value was
 * loaded, and written only if they are still current (one Lua script, see
 * l2-scripts.ts): a slow load that an invalidation on any instance overtook
 * writes nothing, instead of a stale value that lives for the whole TTL.
 *
 * Redis outage: an instance that may have lost an invalidation (it failed, or
 * the connection dropped, or Redis restarted from an older snapshot) bumps the
 * epoch of the namespaces concerned before it uses L2 again (see
 * RedisL2Connection), which retires every entry written before — checked on
 * every read in the same MGET, at no extra cost.
 *
 * Generations are random tokens rather than INCR counters, so a generation
 * key that expired and was recreated can never repeat a value an old entry
 * holds. They live twice the namespace's L2 TTL, and a load whose read is
 * older than one TTL does not write (RedisL2Store.write): an entry therefore
 * expires before any generation it saw can expire and read as "never bumped".
 *
 * One Redis, not Cluster: an MGET spans several hash slots. Hash-tagging the
 * namespace would make it Cluster-ready at the price of one slot per namespace.
 */
export class L2KeyLayout {
  constructor(private readonly keyPrefix: string) {}

  entry(namespace: CacheNamespace, key: string): string {
    return `${this.keyPrefix}:${namespace}:e:${key}`;
  }

  keyGeneration(namespace: CacheNamespace, key: string): string {
    return `${this.keyPrefix}:${namespace}:k:${key}`;
  }

  /** `prefix` is segment-aligned: '' (the whole namespace) or ends with ':'. */
  prefixGeneration(namespace: CacheNamespace, prefix: string): string {
    return `${this.keyPrefix}:${namespace}:p:${prefix}`;
  }

  /** The generation every entry of the namespace depends on. */
  epoch(namespace: CacheNamespace): string {
    return this.prefixGeneration(namespace, '');
  }

  /** The generations an entry under `key` is stamped with, in stamp order: the key's own, then its prefixes from the root. */
  generationsOf(namespace: CacheNamespace, key: string): string[] {
    return [this.keyGeneration(namespace, key), ...this.prefixGenerationsOf(namespace, key)];
  }

  prefixGenerationsOf(namespace: CacheNamespace, key: string): string[] {
    return ancestorPrefixes(key).map((prefix) => this.prefixGeneration(namespace, prefix));
  }
}
