import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { CACHE_NAMESPACES, CacheNamespace, CacheValue } from './cache-namespace';
import { CacheNamespaceStats } from './cache-stats';
import { ResolvedCacheOptions } from './cache.options';
import { L2KeyLayout } from './l2-key-layout';
import { NamespacedCache } from './namespaced-cache';
import { L2Status, RedisL2Connection } from './redis-l2.connection';
import { generationTtlFor, RedisL2Store } from './redis-l2.store';

/** The DI token of the resolved options (CacheModule builds them from AppServerConfig). */
export const CACHE_OPTIONS = Symbol('CACHE_OPTIONS');

export interface CacheMetrics {
  /** `off`: no Redis configured (L1 only); `unavailable`: configured but not answering right now. */
  readonly l2: L2Status | 'off';
  readonly namespaces: Readonly<Record<CacheNamespace, CacheNamespaceStats>>;
}

/**
 * The two-level cache: one NamespacedCache per namespace, sharing one Redis
 * connection when `AppServerConfig.redisUrl` is set, and none at all when not.
 */
@Injectable()
export class CacheService implements OnModuleInit, OnModuleDestroy {
  private readonly redis: RedisL2Connection | undefined;
  private readonly caches: Record<CacheNamespace, NamespacedCache<CacheValue>>;

  constructor(@Inject(CACHE_OPTIONS) private readonly options: ResolvedCacheOptions) {
    const layout = new L2KeyLayout(options.redis.keyPrefix);
    const { redisUrl, namespaces, clock } = options;
    this.redis =
      redisUrl === undefined
        ? undefined
        : new RedisL2Connection(redisUrl, options.redis, layout, (name) => generationTtlFor(namespaces[name].l2TtlMs), clock);
    const redis = this.redis;
    this.caches = Object.fromEntries(
      CACHE_NAMESPACES.map((name) => {
        const l2 = redis && new RedisL2Store<CacheValue>(redis, layout, name, namespaces[name].l2TtlMs, clock);
        return [name, new NamespacedCache<CacheValue>(name, namespaces[name], clock, l2)];
      }),
    ) as Record<CacheNamespace, NamespacedCache<CacheValue>>;
  }

  /**
   * The cache of one namespace, holding values of type `V` (one type per
   * namespace: every caller of a namespace must agree on it).
   */
  namespace<V extends CacheValue>(name: CacheNamespace): NamespacedCache<V> {
    const cache = this.caches[name];
    if (!cache) throw new Error(`Unknown cache namespace "${name}" (known: ${CACHE_NAMESPACES.join(', ')})`);
    return cache as unknown as NamespacedCache<V>;
  }

  /** Empties L1 of every namespace: after a bus reconnect, or whenever invalidation events may have been missed. */
  flushL1(): void {
    for (const cache of Object.values(this.caches)) cache.flushL1();
  }

  /** Counters per namespace and level, and whether L2 is in use. */
  metrics(): CacheMetrics {
    const namespaces = Object.fromEntries(CACHE_NAMESPACES.map((name) => [name, this.caches[name].stats()]));
    return { l2: this.redis?.status() ?? 'off', namespaces: namespaces as Record<CacheNamespace, CacheNamespaceStats> };
  }

  /** Gives Redis a moment to connect so the first requests use L2; boots without it if it does not answer. */
  async onModuleInit(): Promise<void> {
    await this.redis?.waitUntilReady(this.options.redis.connectTimeoutMs);
  }

  /** Closes the Redis connection (QUIT, or a hard disconnect when Redis does not answer). */
  async onModuleDestroy(): Promise<void> {
    await this.redis?.close();
  }
}
