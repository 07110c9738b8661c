import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { describeWith } from '../support/services';
import { GraphqlClient, RunningServer } from '../support/app-server-harness';
import { createTestDatabase, TestDatabase } from '../support/database';
import { waitFor } from '../support/wait-for';

const APP_FIELDS = 'id name version state installedAt updatedAt';
const REGISTER = `mutation Register($input: RegisterAppInput!) { registerApp(input: $input) { ${APP_FIELDS} } }`;
const step = (mutation: string) => `mutation Step($name: String!) { ${mutation}(name: $name) { ${APP_FIELDS} } }`;
const SETTINGS = 'query Settings($appName: String!) { appSettings(appName: $appName) { appName values version updatedAt } }';
const UPDATE_SETTINGS =
  'mutation Update($appName: String!, $values: JSON!) { updateAppSettings(appName: $appName, values: $values) { appName values version updatedAt } }';

const THEME_SCHEMA = {
  type: 'object',
  properties: {
    theme: { type: 'string', enum: ['light', 'dark'] },
    pageSize: { type: 'integer', minimum: 1, maximum: 100 },
  },
  required: ['theme'],
  additionalProperties: false,
};

/**
 * The apps and settings operations of the GraphQL contract, over HTTP against
 * a booted server on PostgreSQL and RabbitMQ: each answer, the rows left in
 * the database, and the events that reached the broker.
 */
describeWith(['postgres', 'rabbitmq'], 'apps and settings over GraphQL (PostgreSQL + RabbitMQ)', () => {
  let database: TestDatabase;
  let server: RunningServer;
  /** Every operation of these cases as the first admin (access control has its own suite, test/auth). */
  let api: GraphqlClient;
  let adminId: string;
  let sql: Client;
  const unique = () => randomBytes(3).toString('hex');

  beforeAll(async () => {
    database = await createTestDatabase();
    server = await RunningServer.start({ transport: 'rabbitmq', namespace: `e2e-${unique()}`, databaseUrl: database.url });
    api = await server.loginAsAdmin();
    adminId = (await api.gql('{ me { id } }')).data!.me.id;
    sql = new Client({ connectionString: database.url });
    await sql.connect();
  });

  afterAll(async () => {
    await sql?.end();
    await server?.close();
    await database?.drop();
  });

  const register = (name: string, settingsSchema?: object, version = '1.0.0') =>
    api.gql(REGISTER, { input: { name, version, ...(settingsSchema ? { settingsSchema } : {}) } });
  const stateInDb = async (name: string) => (await sql.query('SELECT state FROM apps WHERE name = $1', [name])).rows[0]?.state;
  /** Publishes a harmless event after a refused operation: once it arrives, anything the refusal published would have too. */
  const barrier = async () => {
    const name = `de.barrier.app-${unique()}`;
    const response = await register(name);
    const id = response.data!.registerApp.id as string;
    await waitFor(() => server.events.some((e) => e.type === 'app.registered' && (e.data as { appId: string }).appId === id), 'the barrier event');
  };
  const eventsFor = (appName: string) => server.events.filter((e) => (e.data as { appName?: string }).appName === appName).map((e) => e.type);

  describe('registerApp', () => {
    it('registers an app, stores it, and publishes app.registered and settings.registered', async () => {
      const name = `de.easy-m.todos-${unique()}`;
      const response = await register(name, THEME_SCHEMA, '1.2.3');

      expect(response.errors).toBeUndefined();
      expect(response.data!.registerApp).toMatchObject({ name, version: '1.2.3', state: 'REGISTERED', installedAt: null });
      expect(await stateInDb(name)).toBe('REGISTERED');
      await waitFor(() => eventsFor(name).length === 2, 'both events');
      expect(eventsFor(name).sort()).toEqual(['app.registered', 'settings.registered']);
      const registered = server.eventsOf('app.registered').find((e) => (e.data as { appName: string }).appName === name)!;
      expect(registered.data).toMatchObject({ appId: response.data!.registerApp.id, appName: name, version: '1.2.3' });
      expect(registered.aggregateId).toBe(response.data!.registerApp.id);
    });

    it.each([
      ['a name that is not reverse-DNS', { name: 'Todos', version: '1.0.0' }, 'name', /reverse-DNS/],
      ['a version that is not semver', { name: 'de.easy-m.semver', version: '1.0' }, 'version', /semantic version/],
      ['a settings schema that is not JSON Schema', { name: 'de.easy-m.schema', version: '1.0.0', settingsSchema: { type: 'colour' } }, 'input.settingsSchema.type', /must be equal to one of the allowed values|must be array/],
    ])('refuses %s with BAD_USER_INPUT naming the field, and writes nothing', async (_, input, field, reason) => {
      const response = await api.gql(REGISTER, { input });

      expect(response.data).toBeFalsy();
      const [error] = response.errors!;
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
      expect(error.extensions!.fields).toEqual(expect.arrayContaining([expect.objectContaining({ field, reason: expect.stringMatching(reason) })]));
      expect(error.extensions!.stacktrace).toBeUndefined();
      expect(await stateInDb(input.name)).toBeUndefined();
      await barrier();
      expect(eventsFor(input.name)).toEqual([]);
    });

    it('refuses a name registered twice with CONFLICT naming the current state', async () => {
      const name = `de.easy-m.twice-${unique()}`;
      await register(name);
      const response = await register(name, undefined, '2.0.0');

      expect(response.errors![0]).toMatchObject({ extensions: { code: 'CONFLICT', currentState: 'REGISTERED' } });
      expect(response.errors![0].message).toMatch(/already registered/);
      expect((await sql.query('SELECT version FROM apps WHERE name = $1', [name])).rows).toEqual([{ version: '1.0.0' }]);
      await barrier();
      expect(eventsFor(name)).toEqual(['app.registered']);
    });
  });

  describe('the lifecycle', () => {
    it('walks REGISTERED → INSTALLED → UNINSTALLED → INSTALLED → UNINSTALLED → DEREGISTERED with an event per step', async () => {
      const name = `de.easy-m.life-${unique()}`;
      await register(name);

      const installed = await api.gql(step('installApp'), { name });
      expect(installed.data!.installApp).toMatchObject({ state: 'INSTALLED', installedAt: expect.any(String) });
      expect((await api.gql(step('uninstallApp'), { name })).data!.uninstallApp.state).toBe('UNINSTALLED');
      expect((await api.gql(step('installApp'), { name })).data!.installApp.state).toBe('INSTALLED');
      expect((await api.gql(step('uninstallApp'), { name })).data!.uninstallApp.state).toBe('UNINSTALLED');
      expect((await api.gql(step('deregisterApp'), { name })).data!.deregisterApp.state).toBe('DEREGISTERED');

      expect(await stateInDb(name)).toBe('DEREGISTERED');
      await waitFor(() => eventsFor(name).includes('app.deregistered'), 'the last step');
      expect(eventsFor(name).filter((t) => t.startsWith('app.'))).toEqual([
        'app.registered',
        'app.installed',
        'app.uninstalled',
        'app.installed',
        'app.uninstalled',
        'app.deregistered',
      ]);
    });

    it.each([
      ['install an installed app', ['installApp'], 'installApp', 'INSTALLED'],
      ['uninstall a registered app', [], 'uninstallApp', 'REGISTERED'],
      ['deregister an installed app', ['installApp'], 'deregisterApp', 'INSTALLED'],
      ['install a deregistered app', ['deregisterApp'], 'installApp', 'DEREGISTERED'],
    ])('refuses to %s with CONFLICT naming the state; nothing changes, nothing is published', async (_, before, mutation, state) => {
      const name = `de.easy-m.illegal-${unique()}`;
      await register(name);
      for (const m of before) expect((await api.gql(step(m), { name })).errors).toBeUndefined();
      const appEvents = () => eventsFor(name).filter((type) => type.startsWith('app.'));
      await waitFor(() => appEvents().length === 1 + before.length, 'the legal steps');

      const response = await api.gql(step(mutation), { name });

      expect(response.data).toBeFalsy();
      expect(response.errors![0]).toMatchObject({ extensions: { code: 'CONFLICT', currentState: state } });
      expect(response.errors![0].message).toContain(`it is ${state}`);
      expect(await stateInDb(name)).toBe(state);
      await barrier();
      expect(appEvents()).toHaveLength(1 + before.length);
    });

    it('answers NOT_FOUND for an app that does not exist', async () => {
      const response = await api.gql(step('installApp'), { name: 'de.nowhere.app' });
      expect(response.errors![0].extensions).toMatchObject({ code: 'NOT_FOUND' });
    });
  });

  it('answers without an ETag: no client revalidates a POST, so hashing every body would be wasted', async () => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${api.token}` },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toBeNull();
    expect((await fetch(`${server.url}/health`)).headers.get('etag')).toBeNull();
  });

  describe('queries', () => {
    it('lists apps, filters by state, and finds one by name', async () => {
      const registered = `de.easy-m.listed-${unique()}`;
      const installed = `de.easy-m.running-${unique()}`;
      await register(registered);
      await register(installed);
      await api.gql(step('installApp'), { name: installed });

      const all = await api.gql('{ apps { name state } }');
      expect(all.data!.apps).toEqual(
        expect.arrayContaining([
          { name: registered, state: 'REGISTERED' },
          { name: installed, state: 'INSTALLED' },
        ]),
      );
      const onlyInstalled = await api.gql('query($s: AppState) { apps(state: $s) { name state } }', { s: 'INSTALLED' });
      expect(onlyInstalled.data!.apps.every((a: { state: string }) => a.state === 'INSTALLED')).toBe(true);
      expect(onlyInstalled.data!.apps.map((a: { name: string }) => a.name)).toContain(installed);
      expect((await api.gql('query($n: String!) { app(name: $n) { name state } }', { n: installed })).data!.app).toEqual({
        name: installed,
        state: 'INSTALLED',
      });
      expect((await api.gql('query($n: String!) { app(name: $n) { name } }', { n: 'de.no.such-app' })).data!.app).toBeNull();
    });

    it('refuses an unknown state with BAD_USER_INPUT', async () => {
      const response = await api.gql('query($s: AppState) { apps(state: $s) { name } }', { s: 'BROKEN' });
      expect(response.errors![0].extensions!.code).toBe('BAD_USER_INPUT');
    });
  });

  describe('settings', () => {
    it('validates against the schema, bumps the version and publishes settings.updated with the changed keys', async () => {
      const name = `de.easy-m.settings-${unique()}`;
      await register(name, THEME_SCHEMA);

      const first = await api.gql(UPDATE_SETTINGS, { appName: name, values: { theme: 'dark', pageSize: 20 } });
      expect(first.errors).toBeUndefined();
      expect(first.data!.updateAppSettings).toMatchObject({ appName: name, values: { theme: 'dark', pageSize: 20 }, version: 2 });
      const second = await api.gql(UPDATE_SETTINGS, { appName: name, values: { pageSize: 50 } });
      expect(second.data!.updateAppSettings).toMatchObject({ values: { theme: 'dark', pageSize: 50 }, version: 3 });

      expect((await api.gql(SETTINGS, { appName: name })).data!.appSettings).toMatchObject({ values: { theme: 'dark', pageSize: 50 }, version: 3 });
      const row = (await sql.query('SELECT values, version, updated_by FROM app_settings WHERE app_name = $1', [name])).rows[0];
      expect({ ...row, values: typeof row.values === 'string' ? JSON.parse(row.values) : row.values }).toEqual({
        values: { theme: 'dark', pageSize: 50 },
        version: 3,
        updated_by: adminId,
      });
      await waitFor(() => server.eventsOf('settings.updated').filter((e) => (e.data as { appName: string }).appName === name).length === 2, 'two updates');
      const updates = server.eventsOf('settings.updated').filter((e) => (e.data as { appName: string }).appName === name);
      expect(updates.map((e) => e.data)).toEqual([
        { appName: name, changedKeys: ['theme', 'pageSize'], updatedBy: adminId, version: 2 },
        { appName: name, changedKeys: ['pageSize'], updatedBy: adminId, version: 3 },
      ]);
    });

    it('keeps every one of concurrent updates of one app: each merges into the last under its own version', async () => {
      const name = `de.easy-m.concurrent-${unique()}`;
      await register(name);
      const updates = Array.from({ length: 10 }, (_, i) => api.gql(UPDATE_SETTINGS, { appName: name, values: { [`key${i}`]: i } }));
      const answers = await Promise.all(updates);

      expect(answers.map((answer) => answer.errors)).toEqual(Array(10).fill(undefined));
      const versions = answers.map((answer) => answer.data!.updateAppSettings.version as number).sort((x, y) => x - y);
      expect(versions).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      const everyKey = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`key${i}`, i]));
      expect((await api.gql(SETTINGS, { appName: name })).data!.appSettings).toMatchObject({ values: everyKey, version: 11 });
      const row = (await sql.query('SELECT values, version FROM app_settings WHERE app_name = $1', [name])).rows[0];
      expect({ version: row.version, values: typeof row.values === 'string' ? JSON.parse(row.values) : row.values }).toEqual({ version: 11, values: everyKey });
      const published = () => server.eventsOf('settings.updated').filter((e) => (e.data as { appName: string }).appName === name);
      await waitFor(() => published().length === 10, 'ten settings.updated');
      expect(published().map((e) => (e.data as { version: number }).version).sort((x, y) => x - y)).toEqual(versions);
    });

    it('refuses values that break the schema with every violation, writes nothing and publishes settings.validation_failed', async () => {
      const name = `de.easy-m.strict-${unique()}`;
      await register(name, THEME_SCHEMA);

      const response = await api.gql(UPDATE_SETTINGS, { appName: name, values: { theme: 'pink', pageSize: 0, colour: 'red' } });

      expect(response.data).toBeFalsy();
      const [error] = response.errors!;
      expect(error.extensions!.code).toBe('BAD_USER_INPUT');
      expect(error.extensions!.fields).toEqual(
        expect.arrayContaining([
          { field: 'values.theme', reason: expect.stringMatching(/allowed values/) },
          { field: 'values.pageSize', reason: expect.stringMatching(/>= 1/) },
          { field: 'values.colour', reason: 'is not allowed by the schema' },
        ]),
      );
      expect((await sql.query('SELECT version FROM app_settings WHERE app_name = $1', [name])).rows).toEqual([{ version: 1 }]);
      await waitFor(() => eventsFor(name).includes('settings.validation_failed'), 'settings.validation_failed');
      const failed = server.eventsOf('settings.validation_failed').find((e) => (e.data as { appName: string }).appName === name)!;
      expect((failed.data as { violations: unknown[] }).violations).toHaveLength(3);
      expect(eventsFor(name)).not.toContain('settings.updated');
    });

    it('answers NOT_FOUND for the settings of an unknown app, and null when queried', async () => {
      const response = await api.gql(UPDATE_SETTINGS, { appName: 'de.no.such-app', values: { theme: 'dark' } });
      expect(response.errors![0].extensions!.code).toBe('NOT_FOUND');
      expect((await api.gql(SETTINGS, { appName: 'de.no.such-app' })).data!.appSettings).toBeNull();
    });

    it('deletes the settings when the app is deregistered (a group handler reacting to app.deregistered)', async () => {
      const name = `de.easy-m.goodbye-${unique()}`;
      await register(name, THEME_SCHEMA);
      await api.gql(UPDATE_SETTINGS, { appName: name, values: { theme: 'light' } });
      await api.gql(step('deregisterApp'), { name });

      await waitFor(() => eventsFor(name).includes('settings.deleted'), 'settings.deleted');
      expect((await api.gql(SETTINGS, { appName: name })).data!.appSettings).toBeNull();
      expect((await sql.query('SELECT 1 FROM app_settings WHERE app_name = $1', [name])).rowCount).toBe(0);
      const deregistered = server.eventsOf('app.deregistered').find((e) => (e.data as { appName: string }).appName === name)!;
      const deleted = server.eventsOf('settings.deleted').find((e) => (e.data as { appName: string }).appName === name)!;
      expect(deleted.causationId).toBe(deregistered.id);
      expect(deleted.correlationId).toBe(deregistered.correlationId);
    });
  });

  describe('the HTTP edge', () => {
    it('carries the x-correlation-id of the request into the events it causes', async () => {
      const name = `de.easy-m.correlated-${unique()}`;
      const response = await api.gql(REGISTER, { input: { name, version: '1.0.0' } }, { 'x-correlation-id': 'trace-abc-123' });
      expect(response.headers.get('x-correlation-id')).toBe('trace-abc-123');
      await waitFor(() => eventsFor(name).length === 1, 'the event');
      expect(server.events.find((e) => (e.data as { appName?: string }).appName === name)!.correlationId).toBe('trace-abc-123');
    });

    it('refuses a query deeper than the limit before running it', async () => {
      const deep = `{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } }`;
      const response = await api.gql(deep);
      expect(response.errors![0].message).toMatch(/levels deep; the limit is 10/);
      expect(response.errors![0].extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED');
    });

    it('refuses an oversized request body', async () => {
      const response = await api.gql('{ apps { name } }', { padding: 'x'.repeat(200_000) });
      expect(response.status).toBe(413);
    });
  });
});
