import { CacheService } from '../../src/cache/cache.service';
import { describeWith } from '../support/services';
import { Gate, waitFor } from '../support/wait-for';
import { CacheHarness, CountingLoader } from './support/cache-harness';

interface AppSettings {
  appName: string;
  values: Record<string, string>;
  version: number;
}

const settings = (version: number): AppSettings => ({ appName: 'crm', values: { theme: `v${version}` }, version });

describeWith(['redis'], 'Two-level cache against the real Redis', () => {
  let harness: CacheHarness;

  beforeEach(() => {
    harness = new CacheHarness();
  });

  afterEach(async () => {
    await harness.close();
  });

  it('makes one L2 read and one load for 100 concurrent misses, and another instance is served from L2 without loading', async () => {
    const [a, b] = [await harness.service(), await harness.service()];
    const database = new CountingLoader(settings(1));
    const gate = new Gate();
    const slowLoad = async () => {
      await gate.opened;
      return database.load();
    };

    const onA = Array.from({ length: 100 }, () => a.namespace<AppSettings>('settings').getOrLoad('crm', slowLoad));
    gate.open();
    expect(await Promise.all(onA)).toEqual(Array(100).fill(settings(1)));
    expect(database.calls).toBe(1);
    expect(a.metrics().namespaces.settings).toMatchObject({ l1Misses: 100, l2Misses: 1, l2Hits: 0, loads: 1, redisErrors: 0 });

    const onB = Array.from({ length: 100 }, () => b.namespace<AppSettings>('settings').getOrLoad('crm', database.load));
    expect(await Promise.all(onB)).toEqual(Array(100).fill(settings(1)));
    expect(database.calls).toBe(1);
    expect(b.metrics().namespaces.settings).toMatchObject({ l1Misses: 100, l2Hits: 1, l2Misses: 0, loads: 0, redisErrors: 0 });

    // B now answers from its own L1.
    await b.namespace<AppSettings>('settings').getOrLoad('crm', database.load);
    expect(b.metrics().namespaces.settings).toMatchObject({ l1Hits: 1, l2Hits: 1 });
  });

  it('lets an L2 entry expire after its TTL, then loads again', async () => {
    const options = { namespaces: { apps: { l1TtlMs: 50, l2TtlMs: 300 } } };
    const [a, b] = [await harness.service(options), await harness.service(options)];
    const database = new CountingLoader({ name: 'crm', state: 'INSTALLED' });
    await a.namespace('apps').getOrLoad('crm', database.load);
    expect(await harness.keys()).toEqual(['apps:e:crm']);
    const ttl = await harness.redis.pttl(`${harness.keyPrefix}:apps:e:crm`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(300);

    expect(await b.namespace('apps').get('crm')).toEqual({ name: 'crm', state: 'INSTALLED' });
    await waitFor(async () => (await harness.redis.exists(`${harness.keyPrefix}:apps:e:crm`)) === 0, 'Redis to expire the entry');
    await waitFor(async () => (await b.namespace('apps').get('crm')) === undefined, "B's L1 entry to expire too");
    await b.namespace('apps').getOrLoad('crm', database.load);
    expect(database.calls).toBe(2);
  });

  it('caches "not found" in L2 for the negative TTL, so another instance does not load it either', async () => {
    const options = { namespaces: { settings: { negativeTtlMs: 10_000 } } };
    const [a, b] = [await harness.service(options), await harness.service(options)];
    const database = new CountingLoader<AppSettings | null>(null);
    expect(await a.namespace<AppSettings>('settings').getOrLoad('no-such-app', database.load)).toBeNull();
    expect(await b.namespace<AppSettings>('settings').getOrLoad('no-such-app', database.load)).toBeNull();
    expect(database.calls).toBe(1);
    expect(await b.namespace<AppSettings>('settings').get('no-such-app')).toBeNull();
    const ttl = await harness.redis.pttl(`${harness.keyPrefix}:settings:e:no-such-app`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(10_000);
  });

  it('set on one instance is what another reads, and outdates a load that was running there', async () => {
    const [a, b] = [await harness.service(), await harness.service()];
    const slow = new Gate();
    const started = new Gate();
    const loadOnB = b.namespace<AppSettings>('settings').getOrLoad('crm', async () => {
      started.open();
      await slow.opened;
      return settings(1);
    });
    await started.opened;
    await a.namespace<AppSettings>('settings').set('crm', settings(2));
    slow.open();
    await loadOnB;
    b.flushL1();
    expect(await b.namespace<AppSettings>('settings').get('crm')).toEqual(settings(2));
  });

  it('with no Redis URL is L1 only: no connection, nothing written, still single-flight', async () => {
    const before = await harness.keys();
    const service = new CacheService((await import('../../src/cache/cache.options')).resolveCacheOptions(undefined));
    await service.onModuleInit();
    const database = new CountingLoader('value');
    await Promise.all(Array.from({ length: 10 }, () => service.namespace<string>('users').getOrLoad('u1', database.load)));
    expect(database.calls).toBe(1);
    expect(service.metrics().l2).toBe('off');
    expect(service.metrics().namespaces.users).toMatchObject({ l2Hits: 0, l2Misses: 0, redisErrors: 0, l1Entries: 1 });
    await service.onModuleDestroy();
    expect(await harness.keys()).toEqual(before);
  });
});
