import { CacheService } from '../cache/cache.service';
import { resolveCacheOptions } from '../cache/cache.options';
import { CachingGrantLoader } from './caching-grant.loader';
import { DatabaseGrantLoader } from './database-grant.loader';
import { Grant } from './grant-loader';
import { subjectInvalidationPattern } from './permission-cache-keys';
import { PermissionSubject, SubjectType } from './subject-type';

/** DatabaseGrantLoader's one method, over a map, counting loads per subject. */
class FakeDatabaseGrants {
  readonly grants = new Map<string, Grant[]>();
  readonly loads: string[] = [];
  async loadGrants(subject: PermissionSubject): Promise<readonly Grant[]> {
    const id = `${subject.type}:${subject.id}`;
    this.loads.push(id);
    return (this.grants.get(id) ?? []).map((grant) => ({ ...grant }));
  }
}

describe('CachingGrantLoader (L1 only)', () => {
  const alice: PermissionSubject = { type: SubjectType.USER, id: '6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f' };
  const todos: PermissionSubject = { type: SubjectType.APP, id: 'de.easy-m.todos' };
  let database: FakeDatabaseGrants;
  let loader: CachingGrantLoader;

  beforeEach(() => {
    database = new FakeDatabaseGrants();
    loader = new CachingGrantLoader(database as unknown as DatabaseGrantLoader, new CacheService(resolveCacheOptions(undefined)));
  });

  it('loads a subject’s grants once and answers later checks from the cache, an empty list included', async () => {
    database.grants.set(`USER:${alice.id}`, [{ action: 'apps.read', resource: '*' }]);
    for (let i = 0; i < 5; i++) {
      expect(await loader.loadGrants(alice)).toEqual([{ action: 'apps.read', resource: '*' }]);
      expect(await loader.loadGrants(todos)).toEqual([]);
    }
    expect(database.loads).toEqual([`USER:${alice.id}`, 'APP:de.easy-m.todos']);
  });

  it('reloads a subject after the pattern permission.invalidate carries for it is dropped, and only that subject', async () => {
    await loader.loadGrants(alice);
    await loader.loadGrants(todos);
    database.grants.set(`USER:${alice.id}`, [{ action: 'apps.install', resource: 'de.easy-m.*' }]);

    await loader.dropCached(subjectInvalidationPattern(alice));

    expect(await loader.loadGrants(alice)).toEqual([{ action: 'apps.install', resource: 'de.easy-m.*' }]);
    await loader.loadGrants(todos);
    expect(database.loads).toEqual([`USER:${alice.id}`, 'APP:de.easy-m.todos', `USER:${alice.id}`]);
  });
});
