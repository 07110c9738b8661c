import { CACHE_NAMESPACES } from './cache-namespace';
import { resolveCacheOptions } from './cache.options';

describe('resolveCacheOptions', () => {
  it('gives every namespace the documented defaults', () => {
    const options = resolveCacheOptions(undefined);
    for (const name of CACHE_NAMESPACES) {
      expect(options.namespaces[name]).toEqual({ l1MaxEntries: 10_000, l1TtlMs: 60_000, l2TtlMs: 300_000, negativeTtlMs: 30_000 });
    }
    expect(options.redisUrl).toBeUndefined();
    expect(options.redis.keyPrefix).toBe('appserver:cache');
  });

  it('applies defaults, then per-namespace overrides, ignoring undefined', () => {
    const options = resolveCacheOptions('redis://127.0.0.1:6379', {
      defaults: { l1TtlMs: 5_000 },
      namespaces: { sessions: { l1TtlMs: 1_000, l2TtlMs: undefined } },
    });
    expect(options.namespaces.sessions).toMatchObject({ l1TtlMs: 1_000, l2TtlMs: 300_000 });
    expect(options.namespaces.users.l1TtlMs).toBe(5_000);
    expect(options.redisUrl).toBe('redis://127.0.0.1:6379');
  });

  it('names the option that cannot work', () => {
    expect(() => resolveCacheOptions(undefined, { namespaces: { apps: { l1MaxEntries: -1 } } })).toThrow(
      'CacheModuleOptions.namespaces.apps.l1MaxEntries must be a non-negative integer, got -1',
    );
    expect(() => resolveCacheOptions(undefined, { redis: { commandTimeoutMs: 1.5 } })).toThrow('redis.commandTimeoutMs');
    expect(() => resolveCacheOptions(undefined, { redis: { keyPrefix: '' } })).toThrow('keyPrefix');
  });
});
