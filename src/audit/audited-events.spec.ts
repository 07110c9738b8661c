import { AnyEventEnvelope } from '../event-bus/event-envelope';
import { describeForAudit } from './audited-events';

const envelope = (type: string, data: object) => ({ type, data }) as unknown as AnyEventEnvelope;
const USER = '0190c3d8-5f4b-7000-8000-000000000001';

describe('describeForAudit', () => {
  it.each([
    [
      'the first admin',
      envelope('user.created', { userId: USER, email: 'root@example.com', role: 'ADMIN', createdBy: 'system' }),
      { actor: 'system', target: `user:${USER}`, summary: 'Created admin root@example.com' },
    ],
    ['a deletion', envelope('user.deleted', { userId: USER, deletedBy: 'admin-1' }), { actor: 'admin-1', target: `user:${USER}`, summary: `Deleted user ${USER}` }],
    [
      'a grant to an app',
      envelope('permission.invalidate', {
        appName: 'de.easy-m.todos',
        pattern: 'app:de.easy-m.todos:*',
        change: 'granted',
        grant: { subjectType: 'APP', subject: 'de.easy-m.todos', action: 'events.publish', resource: 'app.*' },
        changedBy: 'admin-1',
      }),
      { actor: 'admin-1', target: 'app:de.easy-m.todos', summary: 'Granted events.publish on app.* to app de.easy-m.todos' },
    ],
    [
      'a session ended at logout',
      envelope('session.revoked', { sessionId: 's-1', userId: USER, revokedBy: USER, reason: 'logout' }),
      { actor: USER, target: 'session:s-1', summary: `Ended session s-1 of user ${USER} (logout)` },
    ],
    [
      'a settings change',
      envelope('settings.updated', { appName: 'de.easy-m.todos', changedKeys: ['theme', 'pageSize'], updatedBy: USER, version: 4 }),
      { actor: USER, target: 'app:de.easy-m.todos', summary: 'Changed settings theme, pageSize of de.easy-m.todos (version 4)' },
    ],
  ])('describes %s', (_, event, expected) => {
    expect(describeForAudit(event)).toEqual(expected);
  });

  it.each([
    ['app lifecycle events', envelope('app.installed', { appName: 'de.x.y' })],
    ['session creation', envelope('session.created', { sessionId: 's', userId: USER })],
    ['session expiry', envelope('session.expired', { sessionId: 's', userId: USER })],
    ['an invalidation that only follows a deletion', envelope('permission.invalidate', { pattern: `user:${USER}:*`, change: 'user-deleted' })],
  ])('leaves out %s', (_, event) => {
    expect(describeForAudit(event)).toBeNull();
  });
});
