import { Gate, waitFor } from '../../test/support/wait-for';
import { resolveCacheOptions } from './cache.options';
import { L2Lookup, L2Store } from './l2-store';
import { NamespacedCache } from './namespaced-cache';

interface Setting {
  appName: string;
  values: Record<string, unknown>;
}

function manualClock(start = 1_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

/** An L1-only namespace with small, round TTLs. */
function l1Only(clock = manualClock(), overrides = {}) {
  const options = resolveCacheOptions(undefined, {
    defaults: { l1MaxEntries: 100, l1TtlMs: 1_000, l2TtlMs: 10_000, negativeTtlMs: 200, ...overrides },
  });
  return { clock, cache: new NamespacedCache<Setting>('settings', options.namespaces.settings, clock.now, undefined) };
}

const setting = (appName: string, theme = 'dark'): Setting => ({ appName, values: { theme } });

describe('NamespacedCache (L1 only)', () => {
  describe('getOrLoad', () => {
    it('loads once, then serves from L1 until the TTL passes', async () => {
      const { cache, clock } = l1Only();
      const loader = jest.fn(async () => setting('a'));
      expect(await cache.getOrLoad('a', loader)).toEqual(setting('a'));
      clock.advance(999);
      expect(await cache.getOrLoad('a', loader)).toEqual(setting('a'));
      expect(loader).toHaveBeenCalledTimes(1);
      clock.advance(1);
      await cache.getOrLoad('a', loader);
      expect(loader).toHaveBeenCalledTimes(2);
      expect(cache.stats()).toMatchObject({ l1Hits: 1, l1Misses: 2, loads: 2, l2Hits: 0, l2Misses: 0, redisErrors: 0 });
    });

    it('makes one loader call for 100 concurrent misses of one key', async () => {
      const { cache } = l1Only();
      const gate = new Gate();
      const loader = jest.fn(async () => {
        await gate.opened;
        return setting('a');
      });
      const results = Array.from({ length: 100 }, () => cache.getOrLoad('a', loader));
      gate.open();
      expect(new Set((await Promise.all(results)).map((r) => JSON.stringify(r))).size).toBe(1);
      expect(loader).toHaveBeenCalledTimes(1);
      expect(cache.stats()).toMatchObject({ loads: 1, l1Misses: 100 });
    });

    it('gives a rejected load to every waiter, caches nothing, and loads again on the next call', async () => {
      const { cache } = l1Only();
      const gate = new Gate();
      const failing = jest.fn(async (): Promise<Setting> => {
        await gate.opened;
        throw new Error('database down');
      });
      const results = Array.from({ length: 100 }, () => cache.getOrLoad('a', failing));
      gate.open();
      const settled = await Promise.allSettled(results);
      expect(settled.filter((r) => r.status === 'rejected' && /database down/.test(String(r.reason)))).toHaveLength(100);
      expect(failing).toHaveBeenCalledTimes(1);
      expect(await cache.get('a')).toBeUndefined();
      expect(await cache.getOrLoad('a', async () => setting('a'))).toEqual(setting('a'));
      expect(cache.stats()).toMatchObject({ loads: 2, loadErrors: 1 });
    });

    it('hands out values as JSON gives them back, isolated from the object the loader returned', async () => {
      const { cache } = l1Only();
      const loaded = { appName: 'a', values: { at: new Date('2030-01-02T03:04:05.000Z') } };
      const result = await cache.getOrLoad('a', async () => loaded);
      expect(result).toEqual({ appName: 'a', values: { at: '2030-01-02T03:04:05.000Z' } });
      loaded.values.at = new Date(0);
      expect(await cache.get('a')).toEqual({ appName: 'a', values: { at: '2030-01-02T03:04:05.000Z' } });
    });

    it('caps the TTL per entry, with a function of the value', async () => {
      const { cache, clock } = l1Only();
      await cache.getOrLoad('short', async () => setting('short'), { maxTtlMs: (value) => (value?.appName === 'short' ? 100 : 5_000) });
      await cache.getOrLoad('none', async () => setting('none'), { maxTtlMs: 0 });
      clock.advance(100);
      expect(await cache.get('short')).toBeUndefined();
      expect(await cache.get('none')).toBeUndefined();
    });
  });

  describe('negative caching', () => {
    it('caches "not found" (null) for negativeTtlMs', async () => {
      const { cache, clock } = l1Only();
      const loader = jest.fn(async (): Promise<Setting | null> => null);
      expect(await cache.getOrLoad('unknown-app', loader)).toBeNull();
      expect(await cache.getOrLoad('unknown-app', loader)).toBeNull();
      expect(await cache.get('unknown-app')).toBeNull();
      expect(loader).toHaveBeenCalledTimes(1);
      clock.advance(200);
      expect(await cache.get('unknown-app')).toBeUndefined();
    });

    it('can be refused per call', async () => {
      const { cache } = l1Only();
      const loader = jest.fn(async (): Promise<Setting | null> => null);
      await cache.getOrLoad('unknown-app', loader, { cacheNull: false });
      await cache.getOrLoad('unknown-app', loader, { cacheNull: false });
      expect(loader).toHaveBeenCalledTimes(2);
    });

    it('treats a loader returning undefined as not found', async () => {
      const { cache } = l1Only();
      expect(await cache.getOrLoad('x', async () => undefined as unknown as Setting)).toBeNull();
      expect(await cache.get('x')).toBeNull();
    });
  });

  describe('invalidation', () => {
    it('drops one key', async () => {
      const { cache } = l1Only();
      await cache.set('a', setting('a'));
      await cache.set('b', setting('b'));
      await cache.invalidate('a');
      expect(await cache.get('a')).toBeUndefined();
      expect(await cache.get('b')).toEqual(setting('b'));
    });

    it('drops the keys a pattern matches and only those', async () => {
      const { cache } = l1Only();
      for (const key of ['user:42:read', 'user:42:apps:write', 'user:420:read', 'user:43:read']) await cache.set(key, setting(key));
      await cache.invalidatePattern('user:42:*');
      expect(await cache.get('user:42:read')).toBeUndefined();
      expect(await cache.get('user:42:apps:write')).toBeUndefined();
      expect(await cache.get('user:420:read')).toEqual(setting('user:420:read'));
      expect(await cache.get('user:43:read')).toEqual(setting('user:43:read'));
      await cache.invalidatePattern('user:*:read');
      expect(cache.stats().l1Entries).toBe(0);
    });

    it('does not let a load that an invalidation overtook be cached, and starts a fresh load for later callers', async () => {
      const { cache } = l1Only();
      const slow = new Gate();
      let database = 'old';
      const started: string[] = [];
      const loader = async () => {
        const read = database;
        started.push(read);
        if (read === 'old') await slow.opened;
        return setting('a', read);
      };
      const before = cache.getOrLoad('a', loader);
      await waitFor(() => started.length === 1, 'the first load to start');
      database = 'new';
      await cache.invalidate('a');
      // Read-your-writes: a caller after the invalidation does not join the load that read the old row.
      expect(await cache.getOrLoad('a', loader)).toEqual(setting('a', 'new'));
      slow.open();
      expect(await before).toEqual(setting('a', 'old'));
      expect(await cache.get('a')).toEqual(setting('a', 'new'));
    });

    it('flushL1 empties the namespace and detaches running loads', async () => {
      const { cache } = l1Only();
      const slow = new Gate();
      await cache.set('a', setting('a'));
      const running = cache.getOrLoad('b', async () => {
        await slow.opened;
        return setting('b');
      });
      cache.flushL1();
      slow.open();
      await running;
      expect(cache.stats().l1Entries).toBe(0);
    });

    it('set replaces what is cached and outdates a running load', async () => {
      const { cache } = l1Only();
      const slow = new Gate();
      const running = cache.getOrLoad('a', async () => {
        await slow.opened;
        return setting('a', 'old');
      });
      await cache.set('a', setting('a', 'new'));
      slow.open();
      await running;
      expect(await cache.get('a')).toEqual(setting('a', 'new'));
    });
  });

  it('keeps L1 within l1MaxEntries', async () => {
    const { cache } = l1Only(manualClock(), { l1MaxEntries: 3 });
    for (let i = 0; i < 10; i++) await cache.getOrLoad(`k${i}`, async () => setting(`k${i}`));
    expect(cache.stats().l1Entries).toBe(3);
  });

  describe('writeThrough and invalidateUnlessUpToDate', () => {
    interface Versioned {
      version: number;
    }
    const versioned = () => {
      const options = resolveCacheOptions(undefined, { defaults: { l1MaxEntries: 100, l1TtlMs: 1_000 } });
      return new NamespacedCache<Versioned>('settings', options.namespaces.settings, manualClock().now, undefined);
    };
    const atLeast = (version: number) => (cached: Versioned | null) => cached !== null && cached.version >= version;
    const failIfCalled = async (): Promise<Versioned> => {
      throw new Error('loaded, but L1 should have answered');
    };

    it('writeThrough stores the value in L1, unless L1 already holds one at least as new', async () => {
      const cache = versioned();
      await cache.writeThrough('a', { version: 2 }, await cache.writeTicket('a'), atLeast(2));
      expect(await cache.getOrLoad('a', failIfCalled)).toEqual({ version: 2 });
      // A writer of version 3 got here first; the late writer of version 2 leaves it.
      await cache.writeThrough('a', { version: 3 }, await cache.writeTicket('a'), atLeast(3));
      await cache.writeThrough('a', { version: 2 }, await cache.writeTicket('a'), atLeast(2));
      expect(await cache.getOrLoad('a', failIfCalled)).toEqual({ version: 3 });
    });

    it('writeThrough outdates a load that was running, which still answers its caller', async () => {
      const cache = versioned();
      const gate = new Gate();
      const running = cache.getOrLoad('a', async () => {
        await gate.opened;
        return { version: 1 };
      });
      await cache.writeThrough('a', { version: 2 }, await cache.writeTicket('a'), atLeast(2));
      gate.open();
      expect(await running).toEqual({ version: 1 });
      expect(await cache.getOrLoad('a', failIfCalled)).toEqual({ version: 2 });
    });

    it('invalidateUnlessUpToDate keeps an entry at least as new as the change, and drops an older one or a cached "not found"', async () => {
      const cache = versioned();
      await cache.writeThrough('a', { version: 2 }, await cache.writeTicket('a'), atLeast(2));
      await cache.invalidateUnlessUpToDate('a', atLeast(2));
      expect(await cache.get('a')).toEqual({ version: 2 });
      await cache.invalidateUnlessUpToDate('a', atLeast(3));
      expect(await cache.get('a')).toBeUndefined();
      await cache.getOrLoad('b', async () => null);
      await cache.invalidateUnlessUpToDate('b', atLeast(1));
      expect(await cache.get('b')).toBeUndefined();
    });

    it('invalidateUnlessUpToDate outdates a load running when it drops the entry', async () => {
      const cache = versioned();
      const gate = new Gate();
      const running = cache.getOrLoad('a', async () => {
        await gate.opened;
        return { version: 1 };
      });
      await cache.invalidateUnlessUpToDate('a', atLeast(2));
      gate.open();
      expect(await running).toEqual({ version: 1 });
      expect(await cache.get('a')).toBeUndefined();
    });
  });

  it('with l1MaxEntries 0 caches nothing but still coalesces concurrent loads', async () => {
    const { cache } = l1Only(manualClock(), { l1MaxEntries: 0 });
    const gate = new Gate();
    const loader = jest.fn(async () => {
      await gate.opened;
      return setting('a');
    });
    const results = [cache.getOrLoad('a', loader), cache.getOrLoad('a', loader)];
    gate.open();
    await Promise.all(results);
    await cache.getOrLoad('a', loader);
    expect(loader).toHaveBeenCalledTimes(2);
  });
});

/** An L2 that is never reachable, as the Redis level reports an outage. */
class UnreachableL2 extends L2Store<Setting> {
  async read(): Promise<L2Lookup<Setting>> {
    return { status: 'unavailable' };
  }
  async write() {
    return false;
  }
  async replace() {
    return false;
  }
  async ticket() {
    return undefined;
  }
  async replaceIfCurrent() {
    return 'failed' as const;
  }
  async invalidate() {
    return false;
  }
  async invalidatePattern() {
    return false;
  }
}

describe('NamespacedCache with L2 unreachable', () => {
  it('serves from L1 and the loader without an error, counting each skipped Redis operation', async () => {
    const clock = manualClock();
    const options = resolveCacheOptions('redis://unused', {}).namespaces.settings;
    const cache = new NamespacedCache<Setting>('settings', options, clock.now, new UnreachableL2());
    expect(await cache.getOrLoad('a', async () => setting('a'))).toEqual(setting('a'));
    expect(await cache.getOrLoad('a', async () => setting('a', 'other'))).toEqual(setting('a'));
    expect(await cache.get('missing')).toBeUndefined();
    await cache.invalidate('a');
    await cache.invalidatePattern('user:*');
    await cache.set('b', setting('b'));
    await cache.writeThrough('c', setting('c'), await cache.writeTicket('c'), () => false);
    await cache.invalidateUnlessUpToDate('c', () => true);
    expect(await cache.get('c')).toEqual(setting('c'));
    expect(cache.stats()).toMatchObject({ l1Hits: 2, loads: 1, l2Hits: 0, l2Misses: 0, redisErrors: 7 });
  });
});
