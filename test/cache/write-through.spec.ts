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

const settings = (version: number): AppSettings => ({ appName: 'crm', values: { theme: `v${version}` }, version });
const atLeast = (version: number): UpToDate<AppSettings> => (cached) => cached !== null && cached.version >= version;
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
    const ticket = await cache.writeTicket('crm');
    database.value = settings(version);
    await cache.writeThrough('crm', settings(version), ticket, atLeast(version));
  }

  it('another instance is served the written value from L2, without loading, also after the change event', async () => {
    const [a, b] = [await harness.service(), await harness.service()];
    const database = new CountingLoader(settings(1));
    expect(await settingsOf(b).getOrLoad('crm', database.load)).toEqual(settings(1));

    await commitOn(settingsOf(a), database, 2);
    // The event reaches both: A holds version 2 and keeps it; B drops its version 1 from L1, and L2 keeps A's entry.
    await settingsOf(a).invalidateUnlessUpToDate('crm', atLeast(2));
    await settingsOf(b).invalidateUnlessUpToDate('crm', atLeast(2));

    expect(await settingsOf(b).getOrLoad('crm', database.load)).toEqual(settings(2));
    expect(await settingsOf(a).getOrLoad('crm', database.load)).toEqual(settings(2));
    expect(database.calls).toBe(1);
    expect(b.metrics().namespaces.settings).toMatchObject({ l2Hits: 1, loads: 1, redisErrors: 0 });
    expect(a.metrics().namespaces.settings).toMatchObject({ l1Hits: 1, loads: 0, redisErrors: 0 });
  });

  it('an event that overtakes the writer drops the old entry, and the writer then invalidates rather than writes', async () => {
    const [a, b] = [await harness.service(), await harness.service()];
    const database = new CountingLoader(settings(1));
    await settingsOf(b).getOrLoad('crm', database.load);

    const ticket = await settingsOf(a).writeTicket('crm');
    database.value = settings(2);
    // B hears of version 2 before A stores it: L2 still holds version 1, so B invalidates it.
    await settingsOf(b).invalidateUnlessUpToDate('crm', atLeast(2));
    expect(await harness.keys()).not.toContain('settings:e:crm');
    await settingsOf(a).writeThrough('crm', settings(2), ticket, atLeast(2));
    // The generation changed after A's ticket: A does not know what else happened since, and invalidates.
    expect(await harness.keys()).not.toContain('settings:e:crm');

    expect(await settingsOf(b).getOrLoad('crm', database.load)).toEqual(settings(2));
    // A's own L1 serves its write (read-your-writes) without a load.
    expect(await settingsOf(a).getOrLoad('crm', database.load)).toEqual(settings(2));
    expect(database.calls).toBe(2);
  });

  it('a late writer of an older version never replaces a newer one, in L2 or in the L1 of another writer', async () => {
    const [a, b, c] = [await harness.service(), await harness.service(), await harness.service()];
    const database = new CountingLoader(settings(1));

    // A commits version 2, B then commits version 3 and stores it first; A's write-through comes last.
    const ticketOfA = await settingsOf(a).writeTicket('crm');
    database.value = settings(2);
    await commitOn(settingsOf(b), database, 3);
    await settingsOf(a).writeThrough('crm', settings(2), ticketOfA, atLeast(2));

    // A's write found the generation changed: the key was invalidated, not overwritten with version 2.
    expect(await settingsOf(c).getOrLoad('crm', database.load)).toEqual(settings(3));
    expect(await settingsOf(b).getOrLoad('crm', database.load)).toEqual(settings(3));
    // On one instance, a write-through of version 2 after one of version 3 leaves version 3 in L1.
    await settingsOf(b).writeThrough('crm', settings(2), await settingsOf(b).writeTicket('crm'), atLeast(2));
    expect(await settingsOf(b).get('crm')).toEqual(settings(3));
  });

  it('a load on B that read the old row before A committed never leaves that row in L2', async () => {
    const [a, b] = [await harness.service(), await harness.service()];
    const database = new CountingLoader(settings(1));
    const started = new Gate();
    const release = new Gate();
    const slowOnB = settingsOf(b).getOrLoad('crm', async () => {
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
    expect(await settingsOf(c).get('crm')).toEqual(settings(2));
    // B kept its own load in L1 until the change's event arrives; then it is served A's entry from L2.
    await settingsOf(b).invalidateUnlessUpToDate('crm', atLeast(2));
    expect(await settingsOf(b).getOrLoad('crm', database.load)).toEqual(settings(2));
    expect(database.calls).toBe(0);
  });

  it('an event older than the cached entry keeps it; a newer one drops it on both levels', async () => {
    const [a, b] = [await harness.service(), await harness.service()];
    const database = new CountingLoader(settings(1));
    await commitOn(settingsOf(a), database, 3);
    expect(await settingsOf(b).getOrLoad('crm', database.load)).toEqual(settings(3));

    // A redelivered event of version 2 changes nothing.
    await settingsOf(b).invalidateUnlessUpToDate('crm', atLeast(2));
    expect(await settingsOf(b).getOrLoad('crm', database.load)).toEqual(settings(3));
    expect(b.metrics().namespaces.settings).toMatchObject({ l1Hits: 1, l2Hits: 1, loads: 0 });

    // Version 4 was committed by a writer whose write-through never came (it crashed): the event drops version 3 everywhere.
    database.value = settings(4);
    await settingsOf(b).invalidateUnlessUpToDate('crm', atLeast(4));
    expect(await harness.keys()).not.toContain('settings:e:crm');
    const c = await harness.service();
    expect(await settingsOf(c).getOrLoad('crm', database.load)).toEqual(settings(4));
    expect(await settingsOf(b).getOrLoad('crm', database.load)).toEqual(settings(4));
  });
});
