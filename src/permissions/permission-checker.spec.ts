import { Principal } from '../common/principal';
import { Grant, GrantLoader } from './grant-loader';
import { PermissionChecker } from './permission-checker';
import { PermissionSubject, SubjectType } from './subject-type';

/** The loader is the checker's only dependency and its intended seam, so a map of grants stands in for the database. */
class MapGrantLoader extends GrantLoader {
  readonly loads: PermissionSubject[] = [];
  constructor(private readonly grants: Record<string, Grant[]>) {
    super();
  }
  async loadGrants(subject: PermissionSubject): Promise<readonly Grant[]> {
    this.loads.push(subject);
    return this.grants[`${subject.type}:${subject.id}`] ?? [];
  }
}

const user = (userId: string, isAdmin = false): Principal => ({ kind: 'user', userId, email: `${userId}@example.com`, isAdmin, sessionId: 's' });
const app = (appName: string): Principal => ({ kind: 'app', appName });

describe('PermissionChecker', () => {
  const loader = new MapGrantLoader({
    'USER:alice': [
      { action: 'settings.write', resource: 'de.easy-m.*' },
      { action: 'apps.*', resource: 'de.easy-m.todos' },
    ],
    'USER:bob': [{ action: '*', resource: '*' }],
    'APP:de.easy-m.todos': [{ action: 'events.publish', resource: 'app.*' }],
  });
  const checker = new PermissionChecker(loader);

  it.each([
    ['settings.write', 'de.easy-m.todos', true],
    ['settings.write', 'de.easy-m.calendar', true],
    ['settings.write', 'de.other.todos', false],
    ['settings.read', 'de.easy-m.todos', false],
    ['apps.install', 'de.easy-m.todos', true],
    ['apps.install', 'de.easy-m.calendar', false],
    ['apps.read', '*', false],
  ])('alice: %s on %s → %p', async (action, resource, expected) => {
    expect(await checker.isAllowed(user('alice'), action, resource)).toBe(expected);
  });

  it('grants everything to a `*` on `*` holder', async () => {
    expect(await checker.isAllowed(user('bob'), 'users.delete', 'anyone')).toBe(true);
    expect(await checker.isAllowed(user('bob'), 'apps.read', '*')).toBe(true);
  });

  it('refuses a user without grants', async () => {
    expect(await checker.isAllowed(user('carol'), 'apps.read', '*')).toBe(false);
  });

  it('lets an admin do anything without loading grants', async () => {
    loader.loads.length = 0;
    expect(await checker.isAllowed(user('root', true), 'permissions.grant', 'whatever')).toBe(true);
    expect(loader.loads).toEqual([]);
  });

  it('checks apps against their own grants, never a user with the same name', async () => {
    expect(await checker.isAllowed(app('de.easy-m.todos'), 'events.publish', 'app.installed')).toBe(true);
    expect(await checker.isAllowed(app('de.easy-m.todos'), 'events.publish', 'user.created')).toBe(false);
    expect(await checker.isAllowed(app('alice'), 'settings.write', 'de.easy-m.todos')).toBe(false);
  });

  it('loads the grants of the principal through the loader, once per check', async () => {
    loader.loads.length = 0;
    await checker.isAllowed(user('alice'), 'apps.read', 'x');
    await checker.isAllowed(app('de.easy-m.todos'), 'events.publish', 'app.installed');
    expect(loader.loads).toEqual([
      { type: SubjectType.USER, id: 'alice' },
      { type: SubjectType.APP, id: 'de.easy-m.todos' },
    ]);
  });
});
