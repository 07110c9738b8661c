import { Logger } from '@nestjs/common';
import { CacheService } from '../../src/cache/cache.service';
import { describeWith, SERVICES } from '../support/services';
import { waitFor } from '../support/wait-for';
import { CacheHarness, CountingLoader } from './support/cache-harness';
import { TcpProxy } from './support/tcp-proxy';

interface AppSettings {
  appName: string;
  theme: string;
}

const v1: AppSettings = { appName: 'crm', theme: 'v1' };
const v2: AppSettings = { appName: 'crm', theme: 'v2' };

/**
 * Outages without touching the shared Redis: the caches under test reach it
 * through a TCP proxy that the test cuts and restores.
 */
describeWith(['redis'], 'Cache while Redis is unreachable', () => {
  let harness: CacheHarness;
  let proxy: TcpProxy;

  beforeAll(() => {
    // The outage warnings are expected here; TEST_LOGS=1 shows them.
    if (!process.env.TEST_LOGS) Logger.overrideLogger(false);
  });

  beforeEach(async () => {
    harness = new CacheHarness();
    proxy = await TcpProxy.start(SERVICES.redis.host, SERVICES.redis.port);
  });

  afterEach(async () => {
    await harness.close();
    await proxy.close();
  });

  const l2Is = (service: CacheService, status: 'ready' | 'unavailable') => () => service.metrics().l2 === status;
  const settingsOf = (service: CacheService) => service.namespace<AppSettings>('settings');

  it('serves from L1 and the loader with no error during an outage, counts it, and uses L2 again afterwards', async () => {
    // A long command timeout: the calls below finishing quickly shows they never wait on Redis.
    const a = await harness.service({ redis: { commandTimeoutMs: 2_000 } }, proxy.url);
    const database = new CountingLoader(v1);
    await settingsOf(a).getOrLoad('crm', database.load);

    await proxy.cut();
    await waitFor(l2Is(a, 'unavailable'), 'A to notice the outage');
    const started = Date.now();
    expect(await settingsOf(a).getOrLoad('crm', database.load)).toEqual(v1);
    expect(database.calls).toBe(1);
    expect(await settingsOf(a).getOrLoad('other', async () => ({ appName: 'other', theme: 'x' }))).toEqual({ appName: 'other', theme: 'x' });
    await settingsOf(a).set('third', { appName: 'third', theme: 'y' });
    database.value = v2;
    await settingsOf(a).invalidate('crm');
    await settingsOf(a).invalidatePattern('*');
    expect(await settingsOf(a).getOrLoad('crm', database.load)).toEqual(v2);
    expect(await settingsOf(a).get('nothing')).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(a.metrics().namespaces.settings.redisErrors).toBe(6);

    await proxy.restore();
    await waitFor(l2Is(a, 'ready'), 'A to reconnect');
    await settingsOf(a).getOrLoad('after', async () => ({ appName: 'after', theme: 'z' }));
    const b = await harness.service();
    expect(await settingsOf(b).get('after')).toEqual({ appName: 'after', theme: 'z' });
    expect(a.metrics().namespaces.settings.redisErrors).toBe(6);
  });

  it('never serves an entry from before the outage that an invalidation during the outage outdated', async () => {
    const [a, b] = [await harness.service({}, proxy.url), await harness.service({}, proxy.url)];
    const database = new CountingLoader(v1);
    await settingsOf(a).getOrLoad('crm', database.load);
    expect(await settingsOf(b).getOrLoad('crm', database.load)).toEqual(v1);
    expect(database.calls).toBe(1);

    await proxy.cut();
    await waitFor(() => l2Is(a, 'unavailable')() && l2Is(b, 'unavailable')(), 'both instances to notice the outage');
    database.value = v2;
    // A writes and invalidates, but its L2 invalidation cannot reach Redis; B drops its L1 (the bus event).
    await settingsOf(a).invalidate('crm');
    settingsOf(b).flushL1();
    expect(await settingsOf(a).getOrLoad('crm', database.load)).toEqual(v2);
    expect(await settingsOf(b).getOrLoad('crm', database.load)).toEqual(v2);

    await proxy.restore();
    // The outdated entry is still in Redis: serving it would be the bug this guards against.
    expect(JSON.parse((await harness.redis.get(`${harness.keyPrefix}:settings:e:crm`))!).v).toEqual(v1);
    await waitFor(() => l2Is(a, 'ready')() && l2Is(b, 'ready')(), 'both instances to reconnect');
    for (const service of [a, b, await harness.service()]) {
      service.flushL1();
      expect(await settingsOf(service).getOrLoad('crm', database.load)).toEqual(v2);
    }
  });

  it('makes good an invalidation lost by one instance only, as soon as it reconnects', async () => {
    // A loses Redis; B keeps its own connection throughout (a network partition, not a Redis crash).
    const a = await harness.service({}, proxy.url);
    const b = await harness.service();
    const database = new CountingLoader(v1);
    await settingsOf(b).getOrLoad('crm', database.load);

    await proxy.cut();
    await waitFor(l2Is(a, 'unavailable'), 'A to notice the outage');
    database.value = v2;
    await settingsOf(a).invalidate('crm');
    expect(await settingsOf(a).getOrLoad('crm', database.load)).toEqual(v2);

    await proxy.restore();
    await waitFor(l2Is(a, 'ready'), 'A to reconnect');
    // Any L2 read on A waits for the epoch renewal it owes.
    await settingsOf(a).get('unrelated');
    b.flushL1();
    expect(await settingsOf(b).getOrLoad('crm', database.load)).toEqual(v2);
    // B saw no outage, so only A's renewal can have retired the entry.
    expect(b.metrics().namespaces.settings).toMatchObject({ l2Hits: 0, redisErrors: 0 });
  });

  it('renews every namespace after a dropped connection, not only those it invalidated', async () => {
    const a = await harness.service({}, proxy.url);
    const b = await harness.service();
    await settingsOf(b).set('crm', v1);
    await b.namespace<string>('users').set('u1', 'user one');

    await proxy.cut();
    await waitFor(l2Is(a, 'unavailable'), 'A to notice the outage');
    await settingsOf(a).invalidate('crm');
    await proxy.restore();
    await waitFor(l2Is(a, 'ready'), 'A to reconnect');
    await settingsOf(a).get('unrelated');

    // A dropped connection renews every namespace: Redis may have restarted from an older snapshot.
    b.flushL1();
    expect(await settingsOf(b).get('crm')).toBeUndefined();
    expect(await b.namespace('users').get('u1')).toBeUndefined();
  });

  it('boots without Redis, and starts using it once it answers', async () => {
    await proxy.cut();
    const a = await harness.service({ redis: { connectTimeoutMs: 200 } }, proxy.url);
    expect(a.metrics().l2).toBe('unavailable');
    const database = new CountingLoader(v1);
    expect(await settingsOf(a).getOrLoad('crm', database.load)).toEqual(v1);

    await proxy.restore();
    await waitFor(l2Is(a, 'ready'), 'A to connect');
    await settingsOf(a).set('crm', v2);
    const b = await harness.service();
    expect(await settingsOf(b).get('crm')).toEqual(v2);
  });

  it('a Redis that stops answering costs at most the command timeout, and a timed-out invalidation renews its namespace only', async () => {
    const a = await harness.service({ redis: { commandTimeoutMs: 150, retryAfterFailureMs: 1_000 } }, proxy.url);
    const b = await harness.service();
    await settingsOf(b).set('crm', v1);
    await b.namespace<string>('users').set('u1', 'user one');
    const database = new CountingLoader(v2);

    proxy.stall();
    let started = Date.now();
    expect(await settingsOf(a).getOrLoad('crm', database.load)).toEqual(v2);
    expect(Date.now() - started).toBeLessThan(1_000);
    // The read timed out: for retryAfterFailureMs, reads skip Redis instead of each waiting out a timeout.
    started = Date.now();
    expect(await a.namespace<string>('users').getOrLoad('u1', async () => 'from the database')).toBe('from the database');
    expect(Date.now() - started).toBeLessThan(100);
    // An invalidation is still tried (delivered, it spares an epoch renewal) and times out: its outcome is unknown.
    await settingsOf(a).invalidate('crm');
    expect(a.metrics().namespaces.settings.redisErrors).toBe(2);
    expect(a.metrics().namespaces.users.redisErrors).toBe(1);

    proxy.resume();
    await waitFor(l2Is(a, 'ready'), 'A to try Redis again');
    await settingsOf(a).get('unrelated');
    const keys = await harness.keys();
    // The connection never dropped: only the namespace whose invalidation timed out had its epoch renewed.
    expect(keys).toContain('settings:p:');
    expect(keys).not.toContain('users:p:');
    b.flushL1();
    expect(await settingsOf(b).get('crm')).toBeUndefined();
    expect(await b.namespace('users').get('u1')).toBe('user one');
  });
});
