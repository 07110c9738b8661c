import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { CacheNamespace } from '../../src/cache/cache-namespace';
import { L2KeyLayout } from '../../src/cache/l2-key-layout';
import { grantsCacheKey } from '../../src/permissions/permission-cache-keys';
import { SubjectType } from '../../src/permissions/subject-type';
import { sessionCacheKey } from '../../src/sessions/session-cache-keys';
import { settingsCacheKey } from '../../src/settings/app-settings.snapshot';
import { TcpProxy } from '../cache/support/tcp-proxy';
import { createTestDatabase, TestDatabase } from '../support/database';
import { describeWith, SERVICES, TEST_RABBITMQ_URL, TEST_REDIS_URL } from '../support/services';
import { waitFor } from '../support/wait-for';
import {
  APP,
  appOn,
  codeOf,
  createUser,
  GRANT,
  INSTALL,
  login,
  ME,
  Me,
  ok,
  REDIS_DATABASE,
  register,
  REVOKE,
  REVOKE_SESSION,
  SET_ROLE,
  settingsOn,
  statsIn,
  uniqueAppName,
  updateSettings,
  USERS,
  warmInL1,
} from './support/queries';
import { ServerProcess, TestVhost } from '../support/server-process';

/**
 * Two AppServer processes — A and B — sharing one PostgreSQL database, one
 * Redis and one RabbitMQ virtual host, as two instances behind a load
 * balancer do. A change made through A must reach B's cache: B first holds
 * the old value in its L1 (checked through its /health counters), then serves
 * the new one. Redis is reached through a TCP proxy the test can cut.
 */
describeWith(['postgres', 'redis', 'rabbitmq'], 'The cache across two server processes (PostgreSQL + Redis + RabbitMQ)', () => {
  let database: TestDatabase;
  let vhost: TestVhost;
  let redisProxy: TcpProxy;
  let redis: Redis;
  let a: ServerProcess;
  let b: ServerProcess;
  const layout = new L2KeyLayout('appserver:cache');

  beforeAll(async () => {
    [database, vhost, redisProxy] = await Promise.all([
      createTestDatabase(),
      TestVhost.create(),
      TcpProxy.start(SERVICES.redis.host, SERVICES.redis.port),
    ]);
    redis = new Redis(`${TEST_REDIS_URL}/${REDIS_DATABASE.twoInstances}`);
    const run = randomBytes(4).toString('hex');
    const env = (instance: string): Record<string, string> => ({
      APPSERVER_INSTANCE_ID: `cache-e2e-${instance}-${run}`,
      APPSERVER_DATABASE_URL: database.url,
      APPSERVER_REDIS_URL: `${redisProxy.url}/${REDIS_DATABASE.twoInstances}`,
      APPSERVER_EVENTBUS_ENABLED: 'true',
      APPSERVER_EVENTBUS_TEST_MODE: 'true',
      // Without it each process would pick a random namespace of its own in test mode, and see none of the other's events.
      APPSERVER_EVENTBUS_NAMESPACE: `cache-e2e-${run}`,
      APPSERVER_RABBITMQ_URL: TEST_RABBITMQ_URL,
      APPSERVER_RABBITMQ_VHOST: vhost.name,
      APPSERVER_RABBITMQ_RETRY_DELAY: '50ms',
    });
    [a, b] = await Promise.all([ServerProcess.start('A', env('a')), ServerProcess.start('B', env('b'))]);
    await Promise.all([a.loginAsAdmin(), b.loginAsAdmin()]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redisProxy?.close();
    await redis?.quit();
    await vhost?.delete();
    await database?.drop();
  }, 60_000);

  const statsOf = (server: ServerProcess, namespace: CacheNamespace) => async () => statsIn(await server.health(), namespace);
  const warmSettings = (server: ServerProcess, name: string) =>
    warmInL1(() => settingsOn(server, name), statsOf(server, 'settings'), `the settings of ${name} on ${server.name}`);
  const warmApp = (server: ServerProcess, name: string) => warmInL1(() => appOn(server, name), statsOf(server, 'apps'), `app ${name} on ${server.name}`);

  /** `server` as a client holding `token` (another user's session). */
  type Client = ReturnType<ServerProcess['as']>;
  const meOn = async (client: Client) => (await ok<{ me: Me }>(client.gql(ME))).me;
  /** An authenticated request makes two `sessions` lookups: the token, then its session. */
  const warmSession = (server: ServerProcess, client: Client) =>
    warmInL1(() => meOn(client), statsOf(server, 'sessions'), `the session on ${server.name}`, 2);
  /** A permission-checked read makes one `permissions` lookup (the guard's), whatever the answer. */
  const warmGrants = (server: ServerProcess, read: () => Promise<unknown>) => warmInL1(read, statsOf(server, 'permissions'), `the grants on ${server.name}`);
  const newUserWithSession = async (label: string) => {
    const user = await createUser(a, label);
    const session = await login(b.as(undefined), user.email);
    return { ...user, ...session, onA: a.as(session.token), onB: b.as(session.token) };
  };
  const grantInput = (userId: string, resource: string) => ({ subjectType: 'USER', subject: userId, action: 'apps.read', resource });

  it('boots both with the cache on Redis and reports it on GET /health next to the bus', async () => {
    for (const server of [a, b]) {
      const health = await server.health();
      expect(health).toMatchObject({ status: 'ok', bus: { transport: 'rabbitmq', consuming: true }, cache: { l2: 'ready', redisErrors: 0 } });
      expect(Object.keys(health.cache.namespaces).sort()).toEqual(['apps', 'permissions', 'sessions', 'settings', 'users']);
    }
  });

  it('a setting warmed on B and updated through A: A reads its write at once, B serves the new value from Redis', async () => {
    const name = uniqueAppName('settings');
    await register(a, name);
    await updateSettings(a, name, { theme: 'light' });
    await warmSettings(a, name);
    await warmSettings(b, name);
    expect((await settingsOn(b, name))!.values).toEqual({ theme: 'light' });
    const [aBefore, bBefore] = [await statsOf(a, 'settings')(), await statsOf(b, 'settings')()];

    const updated = await updateSettings(a, name, { theme: 'dark' });

    expect(updated).toMatchObject({ values: { theme: 'dark' }, version: 3 });
    expect(await settingsOn(a, name)).toEqual(updated); // no waiting: the writer stored its write before answering
    await waitFor(async () => (await settingsOn(b, name))!.values.theme === 'dark', 'B to serve the new value');
    expect(await settingsOn(b, name)).toEqual(updated);
    // Written through by A: neither instance loaded it from PostgreSQL; B took it from Redis once its L1 entry was dropped.
    // (A sends its Redis write right after its commit, while the event still has the relay's two queries and RabbitMQ
    // ahead of it: were it to overtake A's write anyway, B would load, correctly, and this would fail.)
    const [aAfter, bAfter] = [await statsOf(a, 'settings')(), await statsOf(b, 'settings')()];
    expect(aAfter.loads).toBe(aBefore.loads);
    expect(aAfter.l2WritesThrough).toBe(aBefore.l2WritesThrough + 1);
    expect(bAfter.loads).toBe(bBefore.loads);
    expect(bAfter.l2Hits).toBe(bBefore.l2Hits + 1);
  });

  it('an app warmed on B and installed through A: B serves the new state', async () => {
    const name = uniqueAppName('app');
    await register(a, name);
    await warmApp(b, name);
    expect((await appOn(b, name))!.state).toBe('REGISTERED');

    const installed = (await ok<{ installApp: { state: string; installedAt: string } }>(a.gql(INSTALL, { name }))).installApp;

    expect(installed.state).toBe('INSTALLED');
    expect(await appOn(a, name)).toMatchObject({ state: 'INSTALLED', installedAt: installed.installedAt });
    await waitFor(async () => (await appOn(b, name))!.state === 'INSTALLED', 'B to serve the new state');
    expect((await appOn(b, name))!.installedAt).toBe(installed.installedAt);
  });

  it('"not found" cached on B for an app and its settings: once A registers the app, B serves both', async () => {
    const name = uniqueAppName('late');
    await warmApp(b, name);
    await warmSettings(b, name);
    expect(await appOn(b, name)).toBeNull();
    expect(await settingsOn(b, name)).toBeNull();

    // No schema: no settings.registered either; app.registered alone must drop both cached "not found"s.
    await register(a, name, null);

    await waitFor(async () => (await appOn(b, name)) !== null, 'B to serve the registered app');
    await waitFor(async () => (await settingsOn(b, name)) !== null, 'B to serve its settings');
    expect(await settingsOn(b, name)).toMatchObject({ appName: name, values: {}, version: 1 });
  });

  it('a session revoked through A: A refuses the token at once, and B, which served it from its L1, as soon as the event arrives', async () => {
    const user = await newUserWithSession('revoked');
    const bystander = await newUserWithSession('bystander');
    for (const client of [user, bystander]) {
      await warmSession(a, client.onA);
      await warmSession(b, client.onB);
    }
    expect(await meOn(user.onB)).toMatchObject({ id: user.id, email: user.email });

    expect((await ok<{ revokeSession: boolean }>(a.gql(REVOKE_SESSION, { id: user.sessionId }))).revokeSession).toBe(true);

    expect(await codeOf(user.onA.gql(ME))).toBe('UNAUTHENTICATED'); // no waiting: the writer dropped the session before answering
    await waitFor(async () => (await codeOf(user.onB.gql(ME))) === 'UNAUTHENTICATED', 'B to refuse the revoked token');
    expect(await codeOf(user.onB.gql(ME))).toBe('UNAUTHENTICATED');
    // Only that session: another user's, cached alongside, still works on both.
    expect(await meOn(bystander.onA)).toMatchObject({ id: bystander.id });
    expect(await meOn(bystander.onB)).toMatchObject({ id: bystander.id });
  });

  it('a logout through B: B refuses the token at once, and A, which served it from its L1, as soon as the event arrives', async () => {
    const user = await newUserWithSession('logout');
    await warmSession(a, user.onA);
    await warmSession(b, user.onB);

    expect((await ok<{ logout: boolean }>(user.onB.gql('mutation { logout }'))).logout).toBe(true);

    expect(await codeOf(user.onB.gql(ME))).toBe('UNAUTHENTICATED');
    await waitFor(async () => (await codeOf(user.onA.gql(ME))) === 'UNAUTHENTICATED', 'A to refuse the token logged out of');
  });

  it("a user's role changed through A: B, which cached their session and record, applies it to the same token", async () => {
    const user = await newUserWithSession('promoted');
    await warmSession(b, user.onB);
    await warmInL1(() => meOn(user.onB), statsOf(b, 'users'), 'the user on B');
    expect(await codeOf(user.onB.gql(USERS))).toBe('FORBIDDEN');
    expect((await meOn(user.onB)).role).toBe('USER');

    await ok(a.gql(SET_ROLE, { id: user.id, role: 'ADMIN' }));

    expect(await codeOf(user.onA.gql(USERS))).toBe('OK');
    await waitFor(async () => (await codeOf(user.onB.gql(USERS))) === 'OK', 'B to treat the session as an admin’s');
    await waitFor(async () => (await meOn(user.onB)).role === 'ADMIN', 'B to serve the new role');

    // And back: demoted through A, refused again on B.
    await ok(a.gql(SET_ROLE, { id: user.id, role: 'USER' }));
    expect(await codeOf(user.onA.gql(USERS))).toBe('FORBIDDEN');
    await waitFor(async () => (await codeOf(user.onB.gql(USERS))) === 'FORBIDDEN', 'B to refuse the demoted user');
  });

  it("a permission granted then revoked through A: B's answers follow — FORBIDDEN, allowed, FORBIDDEN — from cached grants", async () => {
    const name = uniqueAppName('perm');
    await register(a, name);
    const user = await newUserWithSession('grantee');
    const readOn = (client: Client) => () => codeOf(client.gql(APP, { name }));
    const input = grantInput(user.id, name);
    await warmGrants(b, readOn(user.onB));
    expect(await readOn(user.onB)()).toBe('FORBIDDEN'); // from B's L1: the empty grant list

    expect((await ok<{ grantPermission: boolean }>(a.gql(GRANT, { input }))).grantPermission).toBe(true);
    expect(await readOn(user.onA)()).toBe('OK');
    await waitFor(async () => (await readOn(user.onB)()) === 'OK', 'B to apply the grant');
    expect((await appOn(user.onB, name))!.name).toBe(name);

    await warmGrants(b, readOn(user.onB)); // the grant itself, now in B's L1
    expect((await ok<{ revokePermission: boolean }>(a.gql(REVOKE, { input }))).revokePermission).toBe(true);
    expect(await readOn(user.onA)()).toBe('FORBIDDEN');
    await waitFor(async () => (await readOn(user.onB)()) === 'FORBIDDEN', 'B to apply the revocation');
  });

  it('with Redis cut mid-test both keep answering correctly, and when it returns no entry written before serves', async () => {
    const warmedOnBoth = uniqueAppName('redis-down');
    const onlyInRedis = uniqueAppName('redis-stale');
    for (const name of [warmedOnBoth, onlyInRedis]) {
      await register(a, name);
      await updateSettings(a, name, { theme: 'light' });
    }
    await warmSettings(a, warmedOnBoth);
    await warmSettings(b, warmedOnBoth);
    // Written through A only: an entry in Redis that B has never had in its L1. An event of the registration may
    // still be on its way and find the update's write pending (it then drops the key: a load, never a stale value),
    // so update until a write stays.
    const staleEntry = layout.entry('settings', settingsCacheKey(onlyInRedis));
    let revision = 0;
    await waitFor(async () => {
      await updateSettings(a, onlyInRedis, { pageSize: ++revision });
      return (await redis.get(staleEntry))?.includes(`"pageSize":${revision}`) ?? false;
    }, 'an update through A to stay in Redis');
    await warmSettings(a, onlyInRedis);
    expect(await redis.get(staleEntry)).toContain('"light"');
    const errorsBefore = (await a.health()).cache.redisErrors;

    await redisProxy.cut();

    // Both answer from L1 right away, then from the database once A's change drops the entries.
    expect((await settingsOn(b, warmedOnBoth))!.values).toEqual({ theme: 'light' });
    expect((await updateSettings(a, warmedOnBoth, { theme: 'dark' })).values).toEqual({ theme: 'dark' });
    expect((await settingsOn(a, warmedOnBoth))!.values).toEqual({ theme: 'dark' });
    await waitFor(async () => (await settingsOn(b, warmedOnBoth))!.values.theme === 'dark', 'B to serve the change made while Redis is down');
    expect((await updateSettings(a, warmedOnBoth, { pageSize: 25 })).values).toEqual({ theme: 'dark', pageSize: 25 });
    await waitFor(async () => (await settingsOn(b, warmedOnBoth))!.values.pageSize === 25, 'B to serve a second change');
    // A's invalidation of the other app cannot reach Redis either: its old entry stays there.
    expect((await updateSettings(a, onlyInRedis, { theme: 'dark' })).values).toEqual({ theme: 'dark', pageSize: revision });
    expect(await redis.get(staleEntry)).toContain('"light"');

    for (const server of [a, b]) {
      const health = await server.health();
      expect(health).toMatchObject({ status: 'ok', cache: { l2: 'unavailable' } });
    }
    expect((await a.health()).cache.redisErrors).toBeGreaterThan(errorsBefore);

    await redisProxy.restore();
    await waitFor(async () => (await a.health()).cache.l2 === 'ready' && (await b.health()).cache.l2 === 'ready', 'both to use Redis again');

    // B has never held this app's settings: its L1 misses and it asks Redis, where the pre-outage entry still sits.
    expect(await redis.get(staleEntry)).toContain('"light"');
    const before = await statsOf(b, 'settings')();
    expect((await settingsOn(b, onlyInRedis))!.values).toEqual({ theme: 'dark', pageSize: revision });
    const after = await statsOf(b, 'settings')();
    expect(after.l2Hits).toBe(before.l2Hits);
    expect(after.loads).toBe(before.loads + 1);
    // And the caches work as before: a change through A reaches B.
    await updateSettings(a, warmedOnBoth, { theme: 'light' });
    await waitFor(async () => (await settingsOn(b, warmedOnBoth))!.values.theme === 'light', 'B to serve a change made after Redis returned');
  });

  it('with Redis cut mid-test, sessions and permissions stay correct on both, and when it returns no entry written before serves', async () => {
    const warmedOnBoth = await newUserWithSession('redis-both');
    // Used on A only: its session's state sits in Redis, and B has never had it in its L1.
    const onlyInRedis = await newUserWithSession('redis-only');
    const grantee = await newUserWithSession('redis-grantee');
    const name = uniqueAppName('redis-perm');
    await register(a, name);
    const readOn = (client: Client) => () => codeOf(client.gql(APP, { name }));
    await warmSession(a, warmedOnBoth.onA);
    await warmSession(b, warmedOnBoth.onB);
    await warmSession(a, onlyInRedis.onA);
    // Checked on B only: its empty grant list sits in Redis, and A has never had it in its L1.
    await warmGrants(b, readOn(grantee.onB));
    const staleSession = layout.entry('sessions', sessionCacheKey(onlyInRedis.id, onlyInRedis.sessionId));
    const staleGrants = layout.entry('permissions', grantsCacheKey({ type: SubjectType.USER, id: grantee.id }));
    expect(await redis.get(staleSession)).toContain('expiresAt');
    expect(await redis.get(staleGrants)).toContain('[]');

    await redisProxy.cut();

    // Both answer from L1 right away.
    expect(await meOn(warmedOnBoth.onB)).toMatchObject({ id: warmedOnBoth.id });
    expect(await readOn(grantee.onB)()).toBe('FORBIDDEN');
    // Sessions ended through A: refused by A at once and by B on the event, from L1 and the database.
    for (const { sessionId } of [warmedOnBoth, onlyInRedis]) {
      expect((await ok<{ revokeSession: boolean }>(a.gql(REVOKE_SESSION, { id: sessionId }))).revokeSession).toBe(true);
    }
    expect(await codeOf(warmedOnBoth.onA.gql(ME))).toBe('UNAUTHENTICATED');
    expect(await codeOf(onlyInRedis.onA.gql(ME))).toBe('UNAUTHENTICATED');
    await waitFor(async () => (await codeOf(warmedOnBoth.onB.gql(ME))) === 'UNAUTHENTICATED', 'B to refuse the token revoked while Redis is down');
    // A grant through A: B follows. Neither invalidation reached Redis: the old entries are still there.
    expect((await ok<{ grantPermission: boolean }>(a.gql(GRANT, { input: grantInput(grantee.id, name) }))).grantPermission).toBe(true);
    await waitFor(async () => (await readOn(grantee.onB)()) === 'OK', 'B to apply a grant made while Redis is down');
    expect(await redis.get(staleSession)).toContain('expiresAt');
    expect(await redis.get(staleGrants)).toContain('[]');
    for (const server of [a, b]) expect(await server.health()).toMatchObject({ status: 'ok', cache: { l2: 'unavailable' } });

    await redisProxy.restore();
    await waitFor(async () => (await a.health()).cache.l2 === 'ready' && (await b.health()).cache.l2 === 'ready', 'both to use Redis again');

    // B has never held the revoked session: it misses L1 and asks Redis, where the open session of before the outage still sits.
    const sessionsBefore = await statsOf(b, 'sessions')();
    expect(await codeOf(onlyInRedis.onB.gql(ME))).toBe('UNAUTHENTICATED');
    const sessionsAfter = await statsOf(b, 'sessions')();
    expect(sessionsAfter.l2Hits).toBe(sessionsBefore.l2Hits);
    expect(sessionsAfter.loads).toBeGreaterThan(sessionsBefore.loads);
    // A has never checked the grantee: it misses L1 and asks Redis, where the empty grant list of before the outage still sits.
    const grantsBefore = await statsOf(a, 'permissions')();
    expect(await readOn(grantee.onA)()).toBe('OK');
    const grantsAfter = await statsOf(a, 'permissions')();
    expect(grantsAfter.l2Hits).toBe(grantsBefore.l2Hits);
    expect(grantsAfter.loads).toBe(grantsBefore.loads + 1);
    // And the caches work as before: a revocation through A reaches B.
    await warmGrants(b, readOn(grantee.onB));
    expect((await ok<{ revokePermission: boolean }>(a.gql(REVOKE, { input: grantInput(grantee.id, name) }))).revokePermission).toBe(true);
    await waitFor(async () => (await readOn(grantee.onB)()) === 'FORBIDDEN', 'B to apply a revocation made after Redis returned');
  });

  it('with the bus connection cut, B empties its L1 when it reconnects and serves what changed meanwhile', async () => {
    const changed = uniqueAppName('bus-changed');
    const untouched = uniqueAppName('bus-untouched');
    for (const name of [changed, untouched]) {
      await register(a, name);
      await updateSettings(a, name, { theme: 'light' });
    }
    // Let the set-up's own events reach B first: one arriving after the warm-up would drop the entries itself.
    await sleep(250);
    for (const name of [changed, untouched]) await warmSettings(b, name);
    await warmApp(b, changed);
    const flushesBefore = (await b.health()).cache.l1FlushesAfterReconnect;

    await vhost.closeAllConnections();
    // The change commits with its event in the outbox; the relay publishes it once A is connected again.
    expect((await updateSettings(a, changed, { theme: 'dark' })).values).toEqual({ theme: 'dark' });
    expect((await ok<{ installApp: { state: string } }>(a.gql(INSTALL, { name: changed }))).installApp.state).toBe('INSTALLED');
    expect((await settingsOn(a, changed))!.values).toEqual({ theme: 'dark' });

    await waitFor(async () => (await b.health()).cache.l1FlushesAfterReconnect > flushesBefore, 'B to reconnect and empty its L1', { timeoutMs: 30_000 });
    await waitFor(async () => (await settingsOn(b, changed))!.values.theme === 'dark', 'B to serve the changed settings');
    await waitFor(async () => (await appOn(b, changed))!.state === 'INSTALLED', 'B to serve the new state');

    // Nothing dropped the untouched app's entry but the flush: B now has to ask Redis for it (and finds it there).
    const before = await statsOf(b, 'settings')();
    expect((await settingsOn(b, untouched))!.values).toEqual({ theme: 'light' });
    const after = await statsOf(b, 'settings')();
    expect(after.l1Misses).toBe(before.l1Misses + 1);
    expect(after.l2Hits).toBe(before.l2Hits + 1);
    expect(after.loads).toBe(before.loads);
    await waitFor(async () => (await b.health()).bus.consuming, 'B to consume again');
  });
});
