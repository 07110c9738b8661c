import { CACHE_NAMESPACES, CacheNamespace } from './cache-namespace';
import { Clock } from './l1-lru.store';

/** Sizes and lifetimes of one namespace. */
export interface CacheNamespaceOptions {
  /** L1 entries kept in process; 0 turns L1 off for the namespace. Default 10,000. */
  readonly l1MaxEntries?: number;
  /** How long L1 serves an entry; bounds staleness when an invalidation event is lost. Default 60 s. */
  readonly l1TtlMs?: number;
  /** How long an entry lives in Redis. Default 5 min. */
  readonly l2TtlMs?: number;
  /** Lifetime of a cached "not found" (`null`) on both levels, capped by theirs. Default 30 s. */
  readonly negativeTtlMs?: number;
}

/** How the L2 level talks to Redis. The URL itself comes from `AppServerConfig.redisUrl`. */
export interface CacheRedisOptions {
  /** Prefix of every key this cache writes; instances sharing a cache must share it. Default "appserver:cache". */
  readonly keyPrefix?: string;
  /** CLIENT SETNAME of the connection, for operators. CacheModule sets "appserver-cache:<instance id>". */
  readonly connectionName?: string;
  /** A command without an answer after this long fails and the request goes on without L2. Default 250 ms. */
  readonly commandTimeoutMs?: number;
  /** Per connection attempt; also how long boot waits for Redis before going on without it. Default 1 s. */
  readonly connectTimeoutMs?: number;
  /** First reconnect delay; doubles with jitter up to `reconnectMaxDelayMs`. Default 100 ms. */
  readonly reconnectMinDelayMs?: number;
  /** Default 5 s. */
  readonly reconnectMaxDelayMs?: number;
  /** After a failed command, reads and writes skip Redis this long instead of each waiting for a timeout. Default 1 s. */
  readonly retryAfterFailureMs?: number;
}

/** Options of `CacheModule.forRoot`; everything has a default. */
export interface CacheModuleOptions {
  /** Applied to every namespace, under the per-namespace overrides. */
  readonly defaults?: CacheNamespaceOptions;
  readonly namespaces?: Partial<Record<CacheNamespace, CacheNamespaceOptions>>;
  readonly redis?: CacheRedisOptions;
  /** The clock L1 TTLs are measured with (tests). Default `Date.now`. */
  readonly clock?: Clock;
}

export type ResolvedNamespaceOptions = Required<CacheNamespaceOptions>;

export interface ResolvedCacheOptions {
  /** Undefined: L1 only, no Redis client at all. */
  readonly redisUrl: string | undefined;
  readonly namespaces: Readonly<Record<CacheNamespace, ResolvedNamespaceOptions>>;
  readonly redis: Required<CacheRedisOptions>;
  readonly clock: Clock;
}

const NAMESPACE_DEFAULTS: ResolvedNamespaceOptions = {
  l1MaxEntries: 10_000,
  l1TtlMs: 60_000,
  l2TtlMs: 5 * 60_000,
  negativeTtlMs: 30_000,
};

const REDIS_DEFAULTS: Required<CacheRedisOptions> = {
  keyPrefix: 'appserver:cache',
  connectionName: 'appserver-cache',
  commandTimeoutMs: 250,
  connectTimeoutMs: 1_000,
  reconnectMinDelayMs: 100,
  reconnectMaxDelayMs: 5_000,
  retryAfterFailureMs: 1_000,
};

/** Fills in the defaults and rejects values that cannot work, naming the option. */
export function resolveCacheOptions(redisUrl: string | undefined, options: CacheModuleOptions = {}): ResolvedCacheOptions {
  const namespaces = {} as Record<CacheNamespace, ResolvedNamespaceOptions>;
  for (const name of CACHE_NAMESPACES) {
    const resolved = { ...NAMESPACE_DEFAULTS, ...stripUndefined(options.defaults), ...stripUndefined(options.namespaces?.[name]) };
    for (const [option, value] of Object.entries(resolved)) requireNonNegativeInteger(`namespaces.${name}.${option}`, value);
    namespaces[name] = resolved;
  }
  const redis = { ...REDIS_DEFAULTS, ...stripUndefined(options.redis) };
  for (const [option, value] of Object.entries(redis)) {
    if (typeof value === 'number') requireNonNegativeInteger(`redis.${option}`, value);
  }
  if (redis.keyPrefix === '') throw new Error('CacheModuleOptions.redis.keyPrefix must not be empty');
  // Redis refuses a name with spaces; an operator-chosen instance id may have one.
  redis.connectionName = redis.connectionName.replace(/\s/g, '-');
  return { redisUrl, namespaces, redis, clock: options.clock ?? Date.now };
}

function requireNonNegativeInteger(option: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) throw new Error(`CacheModuleOptions.${option} must be a non-negative integer, got ${value}`);
}

function stripUndefined<T extends object>(value: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}
