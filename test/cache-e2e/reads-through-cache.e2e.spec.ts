import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { CacheNamespace } from '../../src/cache/cache-namespace';
import { CacheService } from '../../src/cache/cache.service';
import type { HealthReport } from '../../src/health/health.controller';
import { SettingsService } from '../../src/settings/settings.service';
import { GraphqlClient, RunningServer } from '../support/app-server-harness';
import { createTestDatabase, TestDatabase } from '../support/database';
import { describeWith, TEST_REDIS_URL } from '../support/services';
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
  ok,
  PASSWORD,
  REDIS_DATABASE,
  register,
  REVOKE,
  REVOKE_SESSION,
  settingsOn,
  uniqueAppName,
  updateSettings,
  warmInL1,
} from './support/queries';

/**
 * One server on PostgreSQL, Redis and RabbitMQ: what a read costs once it is
 * cached. Every SQL statement the server sends is recorded (TypeORM hands
 * each one to its logger), so "a cache hit does not touch the database" is
 * checked on the statements themselves, not only on the cache's counters.
 */
describeWith(['postgres', 'redis', 'rabbitmq'], 'Reads through the cache in one server (PostgreSQL + Redis + RabbitMQ)', () => {
  let database: TestDatabase;
  let server: RunningServer;
  /** The test admin's session: every GraphQL operation needs one. */
  let client: GraphqlClient;
  let cache: CacheService;
  const statements: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    server = await RunningServer.start({
      transport: 'rabbitmq',
      namespace: `cache-reads-${randomBytes(4).toString('hex')}`,
      databaseUrl: database.url,
      env: { APPSERVER_REDIS_URL: `${TEST_REDIS_URL}/${REDIS_DATABASE.readsThroughCache}` },
      // No expiry sweep during the run: its SELECT from "sessions" would be counted against the session lookups.
      sessions: { sweepIntervalMs: 3_600_000 },
    });
    cache = server.app.get(CacheService);
    client = await server.loginAsAdmin();
    const logger = server.app.get(DataSource).logger;
    const logQuery = logger.logQuery.bind(logger);
    logger.logQuery = (query, parameters, runner) => {
      statements.push(query);
      return logQuery(query, parameters, runner);
    };
  });

  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  const stats = (namespace: CacheNamespace) => async () => cache.metrics().namespaces[namespace];
  const selectsFrom = (table: string) => statements.filter((sql) => /^\s*SELECT/i.test(sql) && sql.includes(`FROM "${table}"`)).length;

  /**
   * `reads` sequential reads and what they cost; `clean` when every one was an
   * L1 hit (no event dropped the entry meanwhile). `lookupsPerRead`: lookups of
   * the namespace per read (two in `sessions`: the token, then the session).
   */
  async function measure(namespace: CacheNamespace, table: string, reads: number, read: () => Promise<unknown>, lookupsPerRead = 1) {
    const [before, selectsBefore] = [await stats(namespace)(), selectsFrom(table)];
    for (let i = 0; i < reads; i++) await read();
    const after = await stats(namespace)();
    return {
      clean: after.l1Hits - before.l1Hits === reads * lookupsPerRead && after.l1Misses === before.l1Misses,
      loads: after.loads - before.loads,
      selects: selectsFrom(table) - selectsBefore,
    };
  }

  it('reports the cache on GET /health: L2 in use, counters per namespace and level', async () => {
    const response = await fetch(`${server.url}/health`);
    const health = (await response.json()) as HealthReport;
    expect(response.status).toBe(200);
    expect(health).toMatchObject({ status: 'ok', bus: { consuming: true }, cache: { l2: 'ready', redisErrors: 0, l1FlushesAfterReconnect: 0 } });
    expect(health.cache.namespaces.settings).toEqual({
      l1Hits: expect.any(Number),
      l1Misses: expect.any(Number),
      l2Hits: expect.any(Number),
      l2Misses: expect.any(Number),
      loads: expect.any(Number),
      loadErrors: expect.any(Number),
      l2WritesThrough: expect.any(Number),
      l2WritesThroughRefused: expect.any(Number),
      redisErrors: expect.any(Number),
      l1Entries: expect.any(Number),
    });
  });

  it('appSettings answered from L1 sends no SQL', async () => {
    const name = uniqueAppName('hit');
    await register(client, name);
    await updateSettings(client, name, { theme: 'dark' });
    await warmInL1(() => settingsOn(client, name), stats('settings'), 'the settings');

    // Retried only if an event of the set-up dropped the entry during the window (then not every read was a hit).
    await waitFor(async () => {
      const window = await measure('settings', 'app_settings', 50, () => settingsOn(client, name));
      if (!window.clean) return false;
      expect(window).toEqual({ clean: true, loads: 0, selects: 0 });
      return true;
    }, '50 reads in a row from L1');
    expect((await settingsOn(client, name))!.values).toEqual({ theme: 'dark' });
  });

  it('reads of settings in L1 share one frozen entity, built once; an update brings a new one', async () => {
    const name = uniqueAppName('shared');
    await register(client, name);
    const { updatedAt } = await updateSettings(client, name, { theme: 'dark' });
    const settings = server.app.get(SettingsService);
    await warmInL1(async () => settings.find(name), stats('settings'), 'the settings');

    const first = settings.find(name);
    expect(first).not.toBeInstanceOf(Promise);
    expect(settings.find(name)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(first).toMatchObject({ appName: name, values: { theme: 'dark' }, version: 2, updatedAt: new Date(updatedAt) });

    await updateSettings(client, name, { theme: 'light' });
    const next = await settings.find(name);
    expect(next).not.toBe(first);
    expect(next).toMatchObject({ values: { theme: 'light' }, version: 3 });
  });

  it('app(name:) answered from L1 sends no SQL', async () => {
    const name = uniqueAppName('app-hit');
    await register(client, name);
    await warmInL1(() => appOn(client, name), stats('apps'), 'the app');
    await waitFor(async () => {
      const window = await measure('apps', 'apps', 50, () => appOn(client, name));
      if (!window.clean) return false;
      expect(window).toEqual({ clean: true, loads: 0, selects: 0 });
      return true;
    }, '50 reads in a row from L1');
  });

  it('an authenticated request whose session is in L1 sends no SQL for it; me answered from L1 none for the user', async () => {
    const me = () => ok<{ me: { id: string } }>(client.gql(ME));
    await warmInL1(me, stats('sessions'), 'the admin session', 2);
    await warmInL1(me, stats('users'), 'the admin user');

    await waitFor(async () => {
      const selectsFromUsers = selectsFrom('users');
      const usersBefore = await stats('users')();
      const window = await measure('sessions', 'sessions', 50, me, 2);
      const usersAfter = await stats('users')();
      if (!window.clean || usersAfter.l1Hits - usersBefore.l1Hits !== 50) return false;
      expect(window).toEqual({ clean: true, loads: 0, selects: 0 });
      expect(usersAfter.loads - usersBefore.loads).toBe(0);
      expect(selectsFrom('users') - selectsFromUsers).toBe(0);
      return true;
    }, '50 authenticated requests in a row with the session and the user from L1');
  });

  it('a permission check answered from L1 sends no SQL', async () => {
    const name = uniqueAppName('grant-hit');
    await register(client, name);
    const user = await createUser(client, 'grant-hit');
    await ok(client.gql(GRANT, { input: { subjectType: 'USER', subject: user.id, action: 'apps.read', resource: name } }));
    const grantee = await server.login(user.email, PASSWORD);
    const read = async () => expect((await ok<{ app: { name: string } }>(grantee.gql(APP, { name }))).app.name).toBe(name);
    await warmInL1(read, stats('permissions'), 'the grants');

    await waitFor(async () => {
      const window = await measure('permissions', 'permission_grants', 50, read);
      if (!window.clean) return false;
      expect(window).toEqual({ clean: true, loads: 0, selects: 0 });
      return true;
    }, '50 permission checks in a row from L1');
  });

  it('the writer sees its own change on the next request: a grant, its revocation, a revoked session', async () => {
    const name = uniqueAppName('ryw-identity');
    await register(client, name);
    const user = await createUser(client, 'ryw-identity');
    const input = { subjectType: 'USER', subject: user.id, action: 'apps.read', resource: name };
    const { token, sessionId } = await login(server.anonymous(), user.email);
    const session = new GraphqlClient(server, token);
    const read = () => codeOf(session.gql(APP, { name }));
    await warmInL1(read, stats('permissions'), 'the empty grants');
    expect(await read()).toBe('FORBIDDEN');

    await ok(client.gql(GRANT, { input }));
    expect(await read()).toBe('OK');
    await ok(client.gql(REVOKE, { input }));
    expect(await read()).toBe('FORBIDDEN');

    await warmInL1(() => ok(session.gql(ME)), stats('sessions'), 'the session', 2);
    expect((await ok<{ revokeSession: boolean }>(client.gql(REVOKE_SESSION, { id: sessionId }))).revokeSession).toBe(true);
    expect(await codeOf(session.gql(ME))).toBe('UNAUTHENTICATED');
  });

  it('with L1 emptied, appSettings is answered from Redis, still without SQL', async () => {
    const name = uniqueAppName('l2');
    await register(client, name);

    // Retried only if an event of the set-up dropped the entry from Redis in between (then the read loads: not an L2 hit).
    await waitFor(async () => {
      await warmInL1(() => settingsOn(client, name), stats('settings'), 'the settings');
      cache.flushL1();
      const before = await stats('settings')();
      const selectsBefore = selectsFrom('app_settings');
      expect(await settingsOn(client, name)).toMatchObject({ appName: name, values: {}, version: 1 });
      const after = await stats('settings')();
      if (after.l2Hits - before.l2Hits !== 1) return false;
      expect(after.l1Misses - before.l1Misses).toBe(1);
      expect(after.loads - before.loads).toBe(0);
      expect(selectsFrom('app_settings') - selectsBefore).toBe(0);
      return true;
    }, 'a read answered from Redis');
  });

  it('100 concurrent reads of an unknown app make one query, and "not found" is cached', async () => {
    const name = uniqueAppName('unknown');
    const selectsBefore = selectsFrom('apps');

    const answers = await Promise.all(Array.from({ length: 100 }, () => ok<{ app: null }>(client.gql(APP, { name }))));
    expect(answers.every((answer) => answer.app === null)).toBe(true);
    expect(selectsFrom('apps') - selectsBefore).toBe(1);

    for (let i = 0; i < 20; i++) expect(await appOn(client, name)).toBeNull();
    expect(selectsFrom('apps') - selectsBefore).toBe(1);
  });

  it('the writer reads its own write at once: settings, app state, and a registration after a cached "not found"', async () => {
    const name = uniqueAppName('ryw');
    expect(await appOn(client, name)).toBeNull();
    expect(await settingsOn(client, name)).toBeNull();

    await register(client, name);
    expect((await appOn(client, name))!.state).toBe('REGISTERED');
    expect(await settingsOn(client, name)).toMatchObject({ version: 1, values: {} });

    for (const theme of ['light', 'dark', 'light']) {
      const updated = await updateSettings(client, name, { theme });
      expect(await settingsOn(client, name)).toEqual(updated);
    }
    await ok(client.gql(INSTALL, { name }));
    expect((await appOn(client, name))!.state).toBe('INSTALLED');
  });
});
