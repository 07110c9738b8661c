import { describeWith } from '../support/services';
import { Gate } from '../support/wait-for';
import { CacheHarness, CountingLoader } from './support/cache-harness';

/**
 * Two CacheServices sharing Redis stand for two instances. Their L1s are
 * dropped by bus events in the server; here a flushL1 stands in for that, so
 * what is checked is that the other instance's L2 read misses.
 */
describeWith(['redis'], 'Invalidation across instances sharing Redis', () => {
  let harness: CacheHarness;

  beforeEach(() => {
    harness = new CacheHarness();
  });

  afterEach(async () => {
    await harness.close();
  });

  /** Warms `keys` on B from L2 (written by A) so both levels hold them. */
  async function warm(keys: string[]) {
    const [a, b] = [await harness.service(), await harness.service()];
    const loads = new Map(keys.map((key) => [key, new CountingLoader(`${key}@1`)]));
    for (const key of keys) await a.namespace<string>('permissions').getOrLoad(key, loads.get(key)!.load);
    for (const key of keys) expect(await b.namespace<string>('permissions').getOrLoad(key, loads.get(key)!.load)).toBe(`${key}@1`);
    for (const loader of loads.values()) expect(loader.calls).toBe(1);
    return { a, b, loads };
  }

  it('a pattern invalidated on A makes exactly the matching keys miss in L2 on B', async () => {
    const keys = ['user:42:read:apps', 'user:42:write:settings', 'user:420:read:apps', 'user:43:read:apps'];
    const { a, b, loads } = await warm(keys);
    const keysBefore = await harness.keys();

    await a.namespace('permissions').invalidatePattern('user:42:*');
    // One SET for the whole pattern: no key was enumerated, the entries just no longer match their generations.
    expect((await harness.keys()).filter((key) => !keysBefore.includes(key))).toEqual(['permissions:p:user:42:']);

    b.flushL1();
    const before = b.metrics().namespaces.permissions;
    for (const key of keys) loads.get(key)!.value = `${key}@2`;
    const answers = await Promise.all(keys.map((key) => b.namespace<string>('permissions').getOrLoad(key, loads.get(key)!.load)));
    expect(answers).toEqual(['user:42:read:apps@2', 'user:42:write:settings@2', 'user:420:read:apps@1', 'user:43:read:apps@1']);
    const after = b.metrics().namespaces.permissions;
    expect(after.l2Misses - before.l2Misses).toBe(2);
    expect(after.l2Hits - before.l2Hits).toBe(2);
    expect(after.redisErrors).toBe(0);
  });

  it('A drops the matching keys from its own L1 at once (read-your-writes)', async () => {
    const { a, loads } = await warm(['user:42:read:apps', 'user:43:read:apps']);
    loads.get('user:42:read:apps')!.value = 'changed';
    await a.namespace('permissions').invalidatePattern('user:42:*');
    expect(await a.namespace<string>('permissions').getOrLoad('user:42:read:apps', loads.get('user:42:read:apps')!.load)).toBe('changed');
    expect(await a.namespace<string>('permissions').get('user:43:read:apps')).toBe('user:43:read:apps@1');
  });

  it('an exact invalidation on A makes that key miss on B, and deletes the entry', async () => {
    const { a, b, loads } = await warm(['user:42:read:apps', 'user:42:write:apps']);
    await a.namespace('permissions').invalidate('user:42:read:apps');
    expect(await harness.keys()).not.toContain('permissions:e:user:42:read:apps');
    b.flushL1();
    expect(await b.namespace('permissions').get('user:42:read:apps')).toBeUndefined();
    expect(await b.namespace('permissions').get('user:42:write:apps')).toBe('user:42:write:apps@1');
    expect(loads.get('user:42:write:apps')!.calls).toBe(1);
  });

  it('a wildcard inside a segment drops at least the matching keys everywhere (the enclosing prefix in L2)', async () => {
    const { a, b } = await warm(['user:42:read', 'user:42:write', 'group:7:read']);
    await a.namespace('permissions').invalidatePattern('user:*:read');
    // A's L1 matches precisely …
    expect(await a.namespace('permissions').get('user:42:write')).toBe('user:42:write@1');
    expect(await a.namespace('permissions').get('user:42:read')).toBeUndefined();
    // … L2 drops all of `user:`, a superset, and leaves other prefixes alone.
    b.flushL1();
    expect(await b.namespace('permissions').get('user:42:read')).toBeUndefined();
    expect(await b.namespace('permissions').get('user:42:write')).toBeUndefined();
    expect(await b.namespace('permissions').get('group:7:read')).toBe('group:7:read@1');
  });

  it('a load on B that read the old row before A invalidated never leaves that row in L2', async () => {
    const [a, b] = [await harness.service(), await harness.service()];
    let row = 'old';
    const started = new Gate();
    const release = new Gate();
    const slowOnB = b.namespace<string>('users').getOrLoad('user:1', async () => {
      const read = row;
      started.open();
      await release.opened;
      return read;
    });
    await started.opened;
    row = 'new';
    await a.namespace('users').invalidate('user:1');
    release.open();
    expect(await slowOnB).toBe('old');

    // B's write was refused: the key's generation changed after B's read.
    expect(await harness.keys()).not.toContain('users:e:user:1');
    const c = await harness.service();
    expect(await c.namespace('users').get('user:1')).toBeUndefined();
    expect(await c.namespace<string>('users').getOrLoad('user:1', async () => row)).toBe('new');
  });

  it('namespaces are independent', async () => {
    const [a, b] = [await harness.service(), await harness.service()];
    await a.namespace<string>('users').set('1', 'user one');
    await a.namespace<string>('sessions').set('1', 'session one');
    await a.namespace('users').invalidatePattern('*');
    b.flushL1();
    expect(await b.namespace('users').get('1')).toBeUndefined();
    expect(await b.namespace('sessions').get('1')).toBe('session one');
  });
});
