import { CacheService } from '../../src/cache/cache.service';
import { NamespacedCache, UpToDate } from '../../src/cache/namespaced-cache';
import { describeWith } from '../support/services';
import { Gate } from '../support/wait-for';
import { CacheHarness, CountingLoader } from './support/cache-harness';

interface AppSettings {
  appName: string;
  values: Record<string, string>;
  version: number;
}

const settings = (version: number): AppSettings => ({ appName: KEY, values: { theme: `v${version}` }, version });
const atLeast = (version: number): UpToDate<AppSettings> => (cached) => cached !== null && cached.version >= version;
/** As SettingsService keys them: under the `app:` prefix, so the entry also depends on the generations of `p:` and `p:app:`. */
const KEY = 'app:crm';
const ENTRY = `settings:e:${KEY}`;
const settingsOf = (service: CacheService): NamespacedCache<AppSettings> => service.namespace<AppSettings>('settings');

/**
 * Write-through of committed changes, as SettingsService does it: the
 * writer takes a ticket before its commit and stores its result after; every
 * instance, on the change's event, drops what is older. Two CacheServices
 * sharing Redis stand for two instances; a CountingLoader is the database row.
 */
describeWith(['redis'], 'Write-through against the real Redis', () => {
  let harness: CacheHarness;

  beforeEach(() => {
    harness = new CacheHarness();
  });

  afterEach(async () => {
    await harness.close();
  });

  /** What a writer does: ticket before the commit, write-through after it. */
  async function commitOn(cache: NamespacedCache<AppSettings>, database: CountingLoader<AppSettings>, version: number) {
    const ticket = await cache.writeTicket(KEY);
    database.value = settings(version);
    await cache.writeThrough(KEY, settings(version), ticket, atLeast(version));
  }

  it('another instance is served the written value from L2, without loading, also after the change event', async () => {
    const [a, b] = [await harness.service(), await harness.service()];
    const database = new CountingLoader(settings(1));
    expect(await settingsOf(b).getOrLoad(KEY, database.load)).toEqual(settings(1));

    await commitOn(settingsOf(a), database, 2);
    // The event reaches both: A holds version 2 and keeps it; B drops its version 1 from L1, and L2 keeps A's entry.
    await settingsOf(a).invalidateUnlessUpToDate(KEY, atLeast(2));
    await settingsOf(b).invalidateUnlessUpToDate(KEY, atLeast(2));

    expect(await settingsOf(b).getOrLoad(KEY, database.load)).toEqual(settings(2));
    expect(await settingsOf(a).getOrLoad(KEY, database.load)).toEqual(settings(2));
    expect(database.calls).toBe(1);
    expect(b.metrics().namespaces.settings).toMatchObject({ l2Hits: 1, loads: 1, redisErrors: 0 });
    expect(a.metrics().namespaces.settings).toMatchObject({ l1Hits: 1, loads: 0, l2WritesThrough: 1, l2WritesThroughRefused: 0, redisErrors: 0 });
  });

  it('an event that overtakes the writer drops the old entry, and the writer then invalidates rather than writes', async () => {
    const [a, b] = [await harness.service(), await harness.service()];
    const database = new CountingLoader(settings(1));
    await settingsOf(b).getOrLoad(KEY, database.load);

    const ticket = await settingsOf(a).writeTicket(KEY);
    database.value = settings(2);
    // B hears of version 2 before A stores it: L2 still holds version 1, so B invalidates it.
    await settingsOf(b).invalidateUnlessUpToDate(KEY, atLeast(2));
    expect(await harness.keys()).not.toContain(ENTRY);
    await settingsOf(a).writeThrough(KEY, settings(2), ticket, atLeast(2));
    // The generation changed after A's ticket: A does not know what else happened since, and invalidates.
    expect(await harness.keys()).not.toContain(ENTRY);
    expect(a.metrics().namespaces.settings).toMatchObject({ l2WritesThrough: 0, l2WritesThroughRefused: 1, redisErrors: 0 });

    expect(await settingsOf(b).getOrLoad(KEY, database.load)).toEqual(settings(2));
    // A's own L1 serves its write (read-your-writes) without a load.
    expect(await settingsOf(a).getOrLoad(KEY, database.load)).toEqual(settings(2));
    expect(database.calls).toBe(2);
  });

  it('a late writer of an older version never replaces a newer one in Redis', async () => {
    const [a, b, c] = [await harness.service(), await harness.service(), await harness.service()];
    const database = new CountingLoader(settings(1));

    // A commits version 2, B then commits version 3 and stores it first; A's write-through comes last.
    const ticketOfA = await settingsOf(a).writeTicket(KEY);
    database.value = settings(2);
    await commitOn(settingsOf(b), database, 3);
    await settingsOf(a).writeThrough(KEY, settings(2), ticketOfA, atLeast(2));

    // A's write found the key changed since its ticket: it invalidated the key rather than store version 2.
    expect(await harness.keys()).not.toContain(ENTRY);
    expect(await settingsOf(c).getOrLoad(KEY, database.load)).toEqual(settings(3));
    expect(await settingsOf(b).getOrLoad(KEY, database.load)).toEqual(settings(3));
  });

  it('on one instance, a late write-through of version 2 after one of version 3 leaves version 3 in L1 and nothing older in L2', async () => {
    const [a, b] = [await harness.service(), await harness.service()];
    const database = new CountingLoader(settings(1));
    const ticketOf2 = await settingsOf(a).writeTicket(KEY);
    database.value = settings(2);
    await commitOn(settingsOf(a), database, 3);
    await settingsOf(a).writeThrough(KEY, settings(2), ticketOf2, atLeast(2));

    expect(await settingsOf(a).get(KEY)).toEqual(settings(3));
    expect(await settingsOf(b).getOrLoad(KEY, database.load)).toEqual(settings(3));
  });

  it('a value stored by a load after the ticket makes the write-through invalidate, not overwrite it', async () => {
    const [a, b, c] = [await harness.service(), await harness.service(), await harness.service()];
    const database = new CountingLoader(settings(1));
    // A takes its ticket and commits version 2; version 3 is committed elsewhere, and C loads it into Redis
    // (a load changes no generation) before A's write-through — which must not put version 2 over it.
    const ticketOfA = await settingsOf(a).writeTicket(KEY);
    database.value = settings(3);
    expect(await settingsOf(c).getOrLoad(KEY, database.load)).toEqual(settings(3));
    await settingsOf(a).writeThrough(KEY, settings(2), ticketOfA, atLeast(2));

    expect(await harness.keys()).not.toContain(ENTRY);
    expect(await settingsOf(b).getOrLoad(KEY, database.load)).toEqual(settings(3));
  });

  it('a pattern invalidation between the ticket and the write-through makes it invalidate', async () => {
    const [a, b] = [await harness.service(), await harness.service()];
    const database = new CountingLoader(settings(1));
    const ticket = await settingsOf(a).writeTicket(KEY);
    database.value = settings(2);
    await settingsOf(b).invalidatePattern('app:*');
    await settingsOf(a).writeThrough(KEY, settings(2), ticket, atLeast(2));

    expect(await harness.keys()).not.toContain(ENTRY);
    expect(await settingsOf(b).getOrLoad(KEY, database.load)).toEqual(settings(2));
    expect(database.calls).toBe(1);
  });

  it('a load on B that read the old row before A committed never leaves that row in L2', async () => {
    const [a, b] = [await harness.service(), await harness.service()];
    const database = new CountingLoader(settings(1));
    const started = new Gate();
    const release = new Gate();
    const slowOnB = settingsOf(b).getOrLoad(KEY, async () => {
      const read = database.value;
      started.open();
      await release.opened;
      return read;
    });
    await started.opened;
    await commitOn(settingsOf(a), database, 2);
    release.open();
    expect(await slowOnB).toEqual(settings(1));

    // B's write of version 1 was refused: A renewed the key's generation after B's read.
    const c = await harness.service();
    expect(await settingsOf(c).get(KEY)).toEqual(settings(2));
    // B kept its own load in L1 until the change's event arrives; then it is served A's entry from L2.
    await settingsOf(b).invalidateUnlessUpToDate(KEY, atLeast(2));
    expect(await settingsOf(b).getOrLoad(KEY, database.load)).toEqual(settings(2));
    expect(database.calls).toBe(0);
  });

  it('an event older than the cached entry keeps it; a newer one drops it on both levels', async () => {
    const [a, b] = [await harness.service(), await harness.service()];
    const database = new CountingLoader(settings(1));
    await commitOn(settingsOf(a), database, 3);
    expect(await settingsOf(b).getOrLoad(KEY, database.load)).toEqual(settings(3));

    // A redelivered event of version 2 changes nothing.
    await settingsOf(b).invalidateUnlessUpToDate(KEY, atLeast(2));
    expect(await settingsOf(b).getOrLoad(KEY, database.load)).toEqual(settings(3));
    expect(b.metrics().namespaces.settings).toMatchObject({ l1Hits: 1, l2Hits: 1, loads: 0 });

    // Version 4 was committed by a writer whose write-through never came (it crashed): the event drops version 3 everywhere.
    database.value = settings(4);
    await settingsOf(b).invalidateUnlessUpToDate(KEY, atLeast(4));
    expect(await harness.keys()).not.toContain(ENTRY);
    const c = await harness.service();
    expect(await settingsOf(c).getOrLoad(KEY, database.load)).toEqual(settings(4));
    expect(await settingsOf(b).getOrLoad(KEY, database.load)).toEqual(settings(4));
  });
});
