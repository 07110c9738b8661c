import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { CacheModuleOptions, resolveCacheOptions } from '../../../src/cache/cache.options';
import { CacheService } from '../../../src/cache/cache.service';
import { TEST_REDIS_URL } from '../../support/services';

/**
 * CacheServices for one test, sharing a key prefix of their own on the
 * shared Redis (as instances of one deployment share theirs), and a plain
 * client to look at what they wrote. `close()` deletes the prefix's keys.
 */
export class CacheHarness {
  readonly keyPrefix = `appserver-test:cache:${randomBytes(6).toString('hex')}`;
  readonly redis = new Redis(TEST_REDIS_URL);
  private readonly services: CacheService[] = [];

  /** A started CacheService on `redisUrl` (default: straight to Redis), with fast failure and reconnect settings. */
  async service(options: CacheModuleOptions = {}, redisUrl: string | undefined = TEST_REDIS_URL): Promise<CacheService> {
    const service = new CacheService(
      resolveCacheOptions(redisUrl, {
        ...options,
        redis: { keyPrefix: this.keyPrefix, commandTimeoutMs: 500, reconnectMinDelayMs: 20, reconnectMaxDelayMs: 100, retryAfterFailureMs: 50, ...options.redis },
      }),
    );
    this.services.push(service);
    await service.onModuleInit();
    return service;
  }

  /** Keys this test's caches wrote, with the prefix stripped. SCAN is fine here: tests, not a request path. */
  async keys(): Promise<string[]> {
    const found: string[] = [];
    for await (const batch of this.redis.scanStream({ match: `${this.keyPrefix}:*`, count: 1000 })) found.push(...(batch as string[]));
    return found.map((key) => key.slice(this.keyPrefix.length + 1)).sort();
  }

  async close(): Promise<void> {
    await Promise.all(this.services.map((service) => service.onModuleDestroy()));
    const keys = await this.keys();
    if (keys.length > 0) await this.redis.del(...keys.map((key) => `${this.keyPrefix}:${key}`));
    await this.redis.quit();
  }
}

/** A loader over a mutable "database" row that counts its calls. */
export class CountingLoader<V> {
  calls = 0;

  constructor(public value: V) {}

  readonly load = async (): Promise<V> => {
    this.calls++;
    return this.value;
  };
}
