import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { AnyEventEnvelope } from '../../src/event-bus/event-envelope';
import { GraphqlClient, GraphQLResponse, RunningServer, TEST_ADMIN } from '../support/app-server-harness';
import { createTestDatabase, TestDatabase } from '../support/database';
import { describeWith } from '../support/services';
import { waitFor } from '../support/wait-for';

/** Who calls: the columns of the matrix. */
const COLUMNS = ['anonymous', 'revoked token', 'expired token', 'user without the permission', 'user with the permission', 'admin'] as const;
type Column = (typeof COLUMNS)[number];
type Outcome = 'OK' | 'UNAUTHENTICATED' | 'FORBIDDEN';

/**
 * What each kind of operation answers each column. "permission": the user
 * with the permission holds exactly the grant the operation needs (e.g.
 * `apps.install` on `de.granted.*`); "admin": no grant confers it, so that
 * user is refused too.
 */
type Access = 'public' | 'session' | 'permission' | 'admin';
const EXPECTED: Record<Access, Record<Column, Outcome>> = {
  public: {
    anonymous: 'OK',
    'revoked token': 'OK',
    'expired token': 'OK',
    'user without the permission': 'OK',
    'user with the permission': 'OK',
    admin: 'OK',
  },
  session: {
    anonymous: 'UNAUTHENTICATED',
    'revoked token': 'UNAUTHENTICATED',
    'expired token': 'UNAUTHENTICATED',
    'user without the permission': 'OK',
    'user with the permission': 'OK',
    admin: 'OK',
  },
  permission: {
    anonymous: 'UNAUTHENTICATED',
    'revoked token': 'UNAUTHENTICATED',
    'expired token': 'UNAUTHENTICATED',
    'user without the permission': 'FORBIDDEN',
    'user with the permission': 'OK',
    admin: 'OK',
  },
  admin: {
    anonymous: 'UNAUTHENTICATED',
    'revoked token': 'UNAUTHENTICATED',
    'expired token': 'UNAUTHENTICATED',
    'user without the permission': 'FORBIDDEN',
    'user with the permission': 'FORBIDDEN',
    admin: 'OK',
  },
};

const PASSWORD = 'matrix password 12345';
/** The grants of the user with the permission: one per permission-checked operation, on resources under de.granted. */
const GRANTS: ReadonlyArray<[action: string, resource: string]> = [
  ['apps.read', '*'],
  ['apps.register', 'de.granted.*'],
  ['apps.install', 'de.granted.*'],
  ['apps.uninstall', 'de.granted.*'],
  ['apps.deregister', 'de.granted.*'],
  ['settings.read', 'de.granted.*'],
  ['settings.write', 'de.granted.*'],
  ['users.create', '*'],
  ['users.update', '*'],
  ['users.delete', '*'],
  ['sessions.read', '*'],
  ['sessions.revoke', '*'],
];

interface Account {
  readonly email: string;
  readonly password: string;
  readonly id: string;
}

/** One call of one operation, prepared (as admin) for one column. */
interface Call {
  readonly query: string;
  readonly variables?: Record<string, unknown>;
  /** Checks an allowed call's answer and its effects (rows, events), and waits for any effect that follows asynchronously. */
  verify(data: Record<string, any>): Promise<void>;
}

interface Operation {
  readonly name: string;
  readonly mutation: boolean;
  readonly access: Access;
  /** The operation ends the caller's session: callers with an account use a session of their own for it. */
  readonly endsSession?: boolean;
  prepare(column: Column, caller: Account | undefined): Promise<Call>;
}

/**
 * Every operation of the API × {anonymous, revoked token, expired token, user
 * without the permission, user with it, admin}, over HTTP against a server on
 * PostgreSQL and RabbitMQ. Each answer is checked; an allowed call's effects
 * are checked; a refused mutation must leave the database as it was and
 * publish nothing.
 */
describeWith(['postgres', 'rabbitmq'], 'authorization matrix (PostgreSQL + RabbitMQ)', () => {
  let database: TestDatabase;
  let server: RunningServer;
  let sql: Client;
  let admin: GraphqlClient;
  const accounts = {} as Record<'admin' | 'plain' | 'granted', Account>;
  const clients = {} as Record<Column, GraphqlClient>;
  const unique = () => randomBytes(4).toString('hex');

  beforeAll(async () => {
    database = await createTestDatabase();
    // No sweeping during the run: the expired session must stay as the test left it.
    server = await RunningServer.start({
      transport: 'rabbitmq',
      namespace: `matrix-${unique()}`,
      databaseUrl: database.url,
      sessions: { sweepIntervalMs: 3_600_000 },
    });
    sql = new Client({ connectionString: database.url });
    await sql.connect();

    admin = await server.loginAsAdmin();
    accounts.admin = { ...TEST_ADMIN, id: (await ok(admin.gql('{ me { id } }'))).me.id };
    accounts.plain = await createAccount('plain@matrix.test');
    accounts.granted = await createAccount('granted@matrix.test');
    for (const [action, resource] of GRANTS) {
      await ok(admin.gql(GRANT, { input: { subjectType: 'USER', subject: accounts.granted.id, action, resource } }));
    }

    const revoked = await server.login(accounts.plain.email, PASSWORD);
    await ok(revoked.gql('mutation { logout }'));
    const expired = await server.login(accounts.plain.email, PASSWORD);
    await sql.query(`UPDATE sessions SET expires_at = now() - interval '1 minute' WHERE token_hash = encode(sha256($1::bytea), 'hex')`, [
      expired.token,
    ]);

    clients.anonymous = server.anonymous();
    clients['revoked token'] = revoked;
    clients['expired token'] = expired;
    clients['user without the permission'] = await server.login(accounts.plain.email, PASSWORD);
    clients['user with the permission'] = await server.login(accounts.granted.email, PASSWORD);
    clients.admin = admin;
  });

  afterAll(async () => {
    await sql?.end();
    await server?.close();
    await database?.drop();
  });

  const GRANT = 'mutation($input: PermissionInput!) { grantPermission(input: $input) }';
  const APP_FIELDS = 'name state';

  async function ok<T = Record<string, any>>(pending: Promise<GraphQLResponse<T>>): Promise<T> {
    const response = await pending;
    if (response.errors) throw new Error(`GraphQL errors: ${JSON.stringify(response.errors)}`);
    return response.data!;
  }

  async function createAccount(email: string): Promise<Account> {
    const data = await ok(admin.gql('mutation($input: CreateUserInput!) { createUser(input: $input) { id } }', { input: { email, password: PASSWORD } }));
    return { email, password: PASSWORD, id: data.createUser.id };
  }

  const accountOf = (column: Column): Account | undefined =>
    column === 'admin'
      ? accounts.admin
      : column === 'user with the permission'
        ? accounts.granted
        : column === 'user without the permission'
          ? accounts.plain
          : undefined;

  const registerApp = async (prefix: string, schema?: object) => {
    const name = `${prefix}-${unique()}`;
    await ok(admin.gql('mutation($input: RegisterAppInput!) { registerApp(input: $input) { id } }', { input: { name, version: '1.0.0', settingsSchema: schema } }));
    return name;
  };
  const appState = async (name: string) => (await sql.query('SELECT state FROM apps WHERE name = $1', [name])).rows[0]?.state;
  const eventOf = (type: string, match: (data: any) => boolean) => server.events.find((e) => e.type === type && match(e.data));
  const waitForEvent = async (type: string, match: (data: any) => boolean): Promise<AnyEventEnvelope> => {
    await waitFor(() => eventOf(type, match) !== undefined, `a ${type} event`);
    return eventOf(type, match)!;
  };
  /** A user the operation acts on, with a session and a grant so that deleting them has visible consequences. */
  const createVictim = async () => {
    const victim = await createAccount(`victim-${unique()}@matrix.test`);
    const session = await server.login(victim.email, PASSWORD);
    const sessionId = (await sql.query(`SELECT id FROM sessions WHERE token_hash = encode(sha256($1::bytea), 'hex')`, [session.token])).rows[0].id;
    await ok(admin.gql(GRANT, { input: { subjectType: 'USER', subject: victim.id, action: 'apps.read', resource: 'de.victim.*' } }));
    return { ...victim, sessionId };
  };

  const OPERATIONS: Operation[] = [
    {
      name: 'apps',
      mutation: false,
      access: 'permission',
      prepare: async () => {
        const name = await registerApp('de.granted.listed');
        return {
          query: `{ apps { ${APP_FIELDS} } }`,
          verify: async (data) => expect(data.apps).toContainEqual({ name, state: 'REGISTERED' }),
        };
      },
    },
    {
      name: 'app',
      mutation: false,
      access: 'permission',
      prepare: async () => {
        const name = await registerApp('de.granted.one');
        return {
          query: `query($name: String!) { app(name: $name) { ${APP_FIELDS} } }`,
          variables: { name },
          verify: async (data) => expect(data.app).toEqual({ name, state: 'REGISTERED' }),
        };
      },
    },
    {
      name: 'appSettings',
      mutation: false,
      access: 'permission',
      prepare: async () => {
        const appName = await registerApp('de.granted.settings');
        return {
          query: 'query($appName: String!) { appSettings(appName: $appName) { appName version values } }',
          variables: { appName },
          verify: async (data) => expect(data.appSettings).toEqual({ appName, version: 1, values: {} }),
        };
      },
    },
    {
      name: 'me',
      mutation: false,
      access: 'session',
      prepare: async (_, caller) => ({
        query: '{ me { id email } }',
        verify: async (data) => expect(data.me).toEqual({ id: caller!.id, email: caller!.email }),
      }),
    },
    {
      name: 'users',
      mutation: false,
      access: 'admin',
      prepare: async () => ({
        query: '{ users { email role } }',
        verify: async (data) => {
          expect(data.users).toContainEqual({ email: TEST_ADMIN.email, role: 'ADMIN' });
          expect(data.users).toContainEqual({ email: accounts.plain.email, role: 'USER' });
        },
      }),
    },
    {
      name: 'sessions',
      mutation: false,
      access: 'permission',
      // Another user's sessions: one's own need no permission (checked in the focused cases below).
      prepare: async () => {
        const victim = await createVictim();
        return {
          query: 'query($userId: ID!) { sessions(userId: $userId) { id userId } }',
          variables: { userId: victim.id },
          verify: async (data) => expect(data.sessions).toEqual([{ id: victim.sessionId, userId: victim.id }]),
        };
      },
    },
    {
      name: 'permissionGrants',
      mutation: false,
      access: 'admin',
      prepare: async () => ({
        query: 'query($subject: String) { permissionGrants(subjectType: USER, subject: $subject) { action resource } }',
        variables: { subject: accounts.granted.id },
        verify: async (data) => expect(data.permissionGrants).toHaveLength(GRANTS.length),
      }),
    },
    {
      name: 'auditLog',
      mutation: false,
      access: 'admin',
      prepare: async () => {
        await waitFor(async () => (await sql.query('SELECT 1 FROM audit_log LIMIT 1')).rowCount === 1, 'a first audit entry');
        return {
          query: '{ auditLog(limit: 5) { id type summary } }',
          verify: async (data) => {
            expect(data.auditLog.length).toBeGreaterThan(0);
            expect(data.auditLog.length).toBeLessThanOrEqual(5);
          },
        };
      },
    },
    {
      name: 'login',
      mutation: true,
      access: 'public',
      prepare: async () => ({
        query: 'mutation($email: String!, $password: String!) { login(email: $email, password: $password) { token sessionId user { id } } }',
        variables: { email: accounts.plain.email, password: PASSWORD },
        verify: async (data) => {
          expect(data.login.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
          expect(data.login.user.id).toBe(accounts.plain.id);
          const row = (await sql.query('SELECT user_id, ended_at FROM sessions WHERE id = $1', [data.login.sessionId])).rows[0];
          expect(row).toEqual({ user_id: accounts.plain.id, ended_at: null });
          await waitForEvent('session.created', (d) => d.sessionId === data.login.sessionId);
        },
      }),
    },
    {
      name: 'logout',
      mutation: true,
      access: 'session',
      endsSession: true,
      prepare: async () => ({
        query: 'mutation { logout }',
        verify: async (data) => {
          expect(data.logout).toBe(true);
        },
      }),
    },
    {
      name: 'registerApp',
      mutation: true,
      access: 'permission',
      prepare: async () => {
        const name = `de.granted.new-${unique()}`;
        return {
          query: `mutation($input: RegisterAppInput!) { registerApp(input: $input) { ${APP_FIELDS} } }`,
          variables: { input: { name, version: '1.0.0' } },
          verify: async (data) => {
            expect(data.registerApp).toEqual({ name, state: 'REGISTERED' });
            expect(await appState(name)).toBe('REGISTERED');
            await waitForEvent('app.registered', (d) => d.appName === name);
          },
        };
      },
    },
    ...(
      [
        ['installApp', [], 'INSTALLED', 'app.installed'],
        ['uninstallApp', ['installApp'], 'UNINSTALLED', 'app.uninstalled'],
        ['deregisterApp', [], 'DEREGISTERED', 'app.deregistered'],
      ] as const
    ).map(
      ([mutation, before, state, event]): Operation => ({
        name: mutation,
        mutation: true,
        access: 'permission',
        prepare: async () => {
          const name = await registerApp('de.granted.step');
          for (const step of before) await ok(admin.gql(`mutation($name: String!) { ${step}(name: $name) { name } }`, { name }));
          return {
            query: `mutation($name: String!) { ${mutation}(name: $name) { ${APP_FIELDS} } }`,
            variables: { name },
            verify: async (data) => {
              expect(data[mutation]).toEqual({ name, state });
              expect(await appState(name)).toBe(state);
              await waitForEvent(event, (d) => d.appName === name);
              // Its settings go too, in a group handler: wait, so later cases start from a quiet database.
              if (mutation === 'deregisterApp') await waitForEvent('settings.deleted', (d) => d.appName === name);
            },
          };
        },
      }),
    ),
    {
      name: 'updateAppSettings',
      mutation: true,
      access: 'permission',
      prepare: async (_, caller) => {
        const appName = await registerApp('de.granted.configurable');
        return {
          query: 'mutation($appName: String!, $values: JSON!) { updateAppSettings(appName: $appName, values: $values) { version values } }',
          variables: { appName, values: { theme: 'dark' } },
          verify: async (data) => {
            expect(data.updateAppSettings).toEqual({ version: 2, values: { theme: 'dark' } });
            const row = (await sql.query('SELECT version, updated_by FROM app_settings WHERE app_name = $1', [appName])).rows[0];
            expect(row).toEqual({ version: 2, updated_by: caller!.id });
            expect((await waitForEvent('settings.updated', (d) => d.appName === appName)).data).toMatchObject({ updatedBy: caller!.id });
          },
        };
      },
    },
    {
      name: 'createUser',
      mutation: true,
      access: 'permission',
      prepare: async (_, caller) => {
        const email = `new-${unique()}@matrix.test`;
        return {
          query: 'mutation($input: CreateUserInput!) { createUser(input: $input) { id email role } }',
          variables: { input: { email, password: PASSWORD } },
          verify: async (data) => {
            expect(data.createUser).toMatchObject({ email, role: 'USER' });
            expect((await sql.query('SELECT email FROM users WHERE id = $1', [data.createUser.id])).rows).toEqual([{ email }]);
            const created = await waitForEvent('user.created', (d) => d.userId === data.createUser.id);
            expect(created.data).toEqual({ userId: data.createUser.id, email, role: 'USER', createdBy: caller!.id });
          },
        };
      },
    },
    {
      name: 'updateUser',
      mutation: true,
      access: 'permission',
      prepare: async () => {
        const victim = await createAccount(`renamed-${unique()}@matrix.test`);
        return {
          query: 'mutation($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id displayName } }',
          variables: { id: victim.id, input: { displayName: 'Renamed' } },
          verify: async (data) => {
            expect(data.updateUser).toEqual({ id: victim.id, displayName: 'Renamed' });
            expect((await sql.query('SELECT display_name FROM users WHERE id = $1', [victim.id])).rows).toEqual([{ display_name: 'Renamed' }]);
            await waitForEvent('user.updated', (d) => d.userId === victim.id);
          },
        };
      },
    },
    {
      name: 'deleteUser',
      mutation: true,
      access: 'permission',
      prepare: async () => {
        const victim = await createVictim();
        return {
          query: 'mutation($id: ID!) { deleteUser(id: $id) }',
          variables: { id: victim.id },
          verify: async (data) => {
            expect(data.deleteUser).toBe(true);
            expect((await sql.query('SELECT 1 FROM users WHERE id = $1', [victim.id])).rowCount).toBe(0);
            // The consequences run in group handlers: wait for both, so later cases start from a quiet database.
            const revoked = await waitForEvent('session.revoked', (d) => d.sessionId === victim.sessionId);
            expect(revoked.data).toMatchObject({ reason: 'user-deleted' });
            await waitForEvent('permission.invalidate', (d) => d.pattern === `user:${victim.id}:*` && d.change === 'user-deleted' && d.changedBy !== undefined);
            await waitFor(async () => (await sql.query('SELECT 1 FROM permission_grants WHERE subject = $1', [victim.id])).rowCount === 0, 'the grants to go');
          },
        };
      },
    },
    {
      name: 'revokeSession',
      mutation: true,
      // The guard asks for a session; the service for `sessions.revoke` on the owner when it is someone else's, as here.
      access: 'permission',
      prepare: async () => {
        const victim = await createVictim();
        return {
          query: 'mutation($id: ID!) { revokeSession(id: $id) }',
          variables: { id: victim.sessionId },
          verify: async (data) => {
            expect(data.revokeSession).toBe(true);
            expect((await sql.query('SELECT end_reason FROM sessions WHERE id = $1', [victim.sessionId])).rows).toEqual([{ end_reason: 'revoked' }]);
            await waitForEvent('session.revoked', (d) => d.sessionId === victim.sessionId);
          },
        };
      },
    },
    {
      name: 'grantPermission',
      mutation: true,
      access: 'admin',
      prepare: async () => {
        const action = `matrix.granted-${unique()}`;
        return {
          query: GRANT,
          variables: { input: { subjectType: 'USER', subject: accounts.plain.id, action, resource: '*' } },
          verify: async (data) => {
            expect(data.grantPermission).toBe(true);
            expect((await sql.query('SELECT subject FROM permission_grants WHERE action = $1', [action])).rows).toEqual([{ subject: accounts.plain.id }]);
            await waitForEvent('permission.invalidate', (d) => d.grant?.action === action && d.change === 'granted');
          },
        };
      },
    },
    {
      name: 'revokePermission',
      mutation: true,
      access: 'admin',
      prepare: async () => {
        const input = { subjectType: 'USER', subject: accounts.plain.id, action: `matrix.revoked-${unique()}`, resource: '*' };
        await ok(admin.gql(GRANT, { input }));
        return {
          query: 'mutation($input: PermissionInput!) { revokePermission(input: $input) }',
          variables: { input },
          verify: async (data) => {
            expect(data.revokePermission).toBe(true);
            expect((await sql.query('SELECT 1 FROM permission_grants WHERE action = $1', [input.action])).rowCount).toBe(0);
            await waitForEvent('permission.invalidate', (d) => d.grant?.action === input.action && d.change === 'revoked');
          },
        };
      },
    },
  ];

  /** Everything a refused mutation could have changed, as one comparable value (the audit log and outbox are checked apart). */
  const fingerprint = async (): Promise<Record<string, string>> => {
    const tables = ['apps', 'app_settings', 'users', 'sessions', 'permission_grants'];
    const result: Record<string, string> = {};
    for (const table of tables) {
      const { rows } = await sql.query(`SELECT count(*) AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS hash FROM ${table} t`);
      result[table] = `${rows[0].n}:${rows[0].hash}`;
    }
    return result;
  };

  /** Publishes something harmless and waits for it: once it has arrived, any event the refused call had caused would have too. */
  const barrier = async () => {
    const name = await registerApp('de.barrier.app');
    await waitForEvent('app.registered', (d) => d.appName === name);
  };

  it('covers every query and mutation of the schema', async () => {
    const schema = await ok(server.anonymous().gql('{ __schema { queryType { fields { name } } mutationType { fields { name } } } }'));
    const inSchema = [...schema.__schema.queryType.fields, ...schema.__schema.mutationType.fields].map((f: { name: string }) => f.name).sort();
    expect(OPERATIONS.map((operation) => operation.name).sort()).toEqual(inSchema);
  });

  for (const operation of OPERATIONS) {
    describe(`${operation.mutation ? 'mutation' : 'query'} ${operation.name}`, () => {
      it.each(COLUMNS.map((column) => [column, EXPECTED[operation.access][column]] as const))('%s → %s', async (column, expected) => {
        const caller = accountOf(column);
        const client = operation.endsSession && caller ? await server.login(caller.email, caller.password) : clients[column];
        const call = await operation.prepare(column, caller);
        const correlationId = `matrix-${operation.name}-${unique()}`;
        const before = operation.mutation && expected !== 'OK' ? await fingerprint() : undefined;

        const response = await client.gql(call.query, call.variables, { 'x-correlation-id': correlationId });

        if (client.token) expect(JSON.stringify(response)).not.toContain(client.token);
        if (expected === 'OK') {
          expect(response.errors).toBeUndefined();
          await call.verify(response.data!);
          if (operation.endsSession) {
            expect((await client.gql('{ me { id } }')).errors![0].extensions!.code).toBe('UNAUTHENTICATED');
          }
          return;
        }
        expect(response.errors).toHaveLength(1);
        const [error] = response.errors!;
        expect(error.extensions).toEqual({ code: expected });
        expect(error.path).toEqual([operation.name]);
        expect(response.data?.[operation.name] ?? null).toBeNull();
        expect(error.message).toMatch(expected === 'UNAUTHENTICATED' ? /^Not authenticated: log in/ : /admin|Permission ".+" on ".*" is required/);
        if (!operation.mutation) return;

        expect(await fingerprint()).toEqual(before);
        const recorded = await sql.query(`SELECT count(*)::int AS n FROM outbox_messages WHERE envelope->>'correlationId' = $1`, [correlationId]);
        expect(recorded.rows[0].n).toBe(0);
        await barrier();
        expect(server.events.filter((event) => event.correlationId === correlationId)).toEqual([]);
      });
    });
  }

  describe('beyond the matrix', () => {
    it('limits a grant to the resources its pattern matches', async () => {
      const elsewhere = await registerApp('de.elsewhere.app');
      const granted = clients['user with the permission'];
      const response = await granted.gql('mutation($name: String!) { installApp(name: $name) { state } }', { name: elsewhere });
      expect(response.errors![0]).toMatchObject({ message: `Permission "apps.install" on "${elsewhere}" is required`, extensions: { code: 'FORBIDDEN' } });
      expect(await appState(elsewhere)).toBe('REGISTERED');
      const settings = await granted.gql('query($a: String!) { appSettings(appName: $a) { version } }', { a: elsewhere });
      expect(settings.errors![0].extensions!.code).toBe('FORBIDDEN');
    });

    it('checks the permission before validating the input, so a refused caller learns nothing from validation', async () => {
      const response = await clients['user without the permission'].gql('mutation($name: String!) { installApp(name: $name) { state } }', { name: 'Not A Name' });
      expect(response.errors![0].extensions).toEqual({ code: 'FORBIDDEN' });
      const anonymous = await clients.anonymous.gql('mutation($id: ID!) { deleteUser(id: $id) }', { id: 'not-a-uuid' });
      expect(anonymous.errors![0].extensions).toEqual({ code: 'UNAUTHENTICATED' });
    });

    it('gives a holder of every grant (* on *) no admin-only operation', async () => {
      const holder = await createAccount(`everything-${unique()}@matrix.test`);
      await ok(admin.gql(GRANT, { input: { subjectType: 'USER', subject: holder.id, action: '*', resource: '*' } }));
      const client = await server.login(holder.email, PASSWORD);
      expect((await client.gql('{ apps { name } }')).errors).toBeUndefined();
      for (const query of ['{ users { id } }', '{ auditLog { id } }', '{ permissionGrants { action } }']) {
        expect((await client.gql(query)).errors![0].extensions).toEqual({ code: 'FORBIDDEN' });
      }
      const selfPromotion = await client.gql(GRANT, { input: { subjectType: 'USER', subject: holder.id, action: 'anything', resource: '*' } });
      expect(selfPromotion.errors![0].extensions).toEqual({ code: 'FORBIDDEN' });
      // users.create on * is not enough to make an admin, nor users.update to become one.
      const makeAdmin = await client.gql('mutation($input: CreateUserInput!) { createUser(input: $input) { id } }', {
        input: { email: `root-${unique()}@matrix.test`, password: PASSWORD, role: 'ADMIN' },
      });
      expect(makeAdmin.errors![0]).toMatchObject({ message: 'Only an admin may create an admin', extensions: { code: 'FORBIDDEN' } });
      const promote = await client.gql('mutation($id: ID!) { updateUser(id: $id, input: { role: ADMIN }) { role } }', { id: holder.id });
      expect(promote.errors![0]).toMatchObject({ message: 'Only an admin may change a role', extensions: { code: 'FORBIDDEN' } });
      const takeOver = await client.gql('mutation($id: ID!) { updateUser(id: $id, input: { password: "taken over at last" }) { id } }', {
        id: accounts.admin.id,
      });
      expect(takeOver.errors![0]).toMatchObject({ message: 'Only an admin may change an admin', extensions: { code: 'FORBIDDEN' } });
      const removeAdmin = await client.gql('mutation($id: ID!) { deleteUser(id: $id) }', { id: accounts.admin.id });
      expect(removeAdmin.errors![0]).toMatchObject({ message: 'Only an admin may delete an admin', extensions: { code: 'FORBIDDEN' } });
      expect((await sql.query(`SELECT count(*)::int AS n FROM users WHERE role = 'ADMIN'`)).rows[0].n).toBe(1);
    });

    it('lets a user manage their own record and sessions without any grant', async () => {
      const self = await createAccount(`self-${unique()}@matrix.test`);
      const client = await server.login(self.email, PASSWORD);
      const other = await server.login(self.email, PASSWORD);
      const renamed = await client.gql('mutation($id: ID!) { updateUser(id: $id, input: { displayName: "Me" }) { displayName } }', { id: self.id });
      expect(renamed.data!.updateUser).toEqual({ displayName: 'Me' });
      const sessions = await ok(client.gql('query($id: ID!) { sessions(userId: $id) { id } }', { id: self.id }));
      expect(sessions.sessions).toHaveLength(2);
      const otherId = (await sql.query(`SELECT id FROM sessions WHERE token_hash = encode(sha256($1::bytea), 'hex')`, [other.token])).rows[0].id;
      expect((await ok(client.gql('mutation($id: ID!) { revokeSession(id: $id) }', { id: otherId }))).revokeSession).toBe(true);
      expect((await other.gql('{ me { id } }')).errors![0].extensions!.code).toBe('UNAUTHENTICATED');
      expect((await client.gql('{ me { id } }')).data!.me).toEqual({ id: self.id });

      const noCurrent = await client.gql('mutation($id: ID!) { updateUser(id: $id, input: { password: "a brand new password" }) { id } }', { id: self.id });
      expect(noCurrent.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'input.currentPassword', reason: 'must be your current password' }] });
      const changed = await client.gql('mutation($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id } }', {
        id: self.id,
        input: { password: 'a brand new password', currentPassword: PASSWORD },
      });
      expect(changed.errors).toBeUndefined();
      await expect(server.login(self.email, 'a brand new password')).resolves.toBeInstanceOf(GraphqlClient);
    });

    it('applies a grant and its revocation from the next request on', async () => {
      const name = await registerApp('de.later.app');
      const plain = clients['user without the permission'];
      const read = () => plain.gql('query($name: String!) { app(name: $name) { name } }', { name });
      const input = { subjectType: 'USER', subject: accounts.plain.id, action: 'apps.read', resource: 'de.later.*' };
      expect((await read()).errors![0].extensions!.code).toBe('FORBIDDEN');

      expect((await ok(admin.gql(GRANT, { input }))).grantPermission).toBe(true);
      expect((await ok(read())).app).toEqual({ name });
      expect((await ok(admin.gql(GRANT, { input }))).grantPermission).toBe(false);

      expect((await ok(admin.gql('mutation($input: PermissionInput!) { revokePermission(input: $input) }', { input }))).revokePermission).toBe(true);
      expect((await read()).errors![0].extensions!.code).toBe('FORBIDDEN');
      const invalidations = () => server.events.filter((e) => e.type === 'permission.invalidate' && (e.data as any).grant?.resource === 'de.later.*');
      // The grant that changed nothing published nothing.
      await waitFor(() => invalidations().length === 2, 'two invalidations');
      await barrier();
      expect(invalidations().map((e) => e.data)).toEqual([
        { pattern: `user:${accounts.plain.id}:*`, change: 'granted', grant: input, changedBy: accounts.admin.id },
        { pattern: `user:${accounts.plain.id}:*`, change: 'revoked', grant: input, changedBy: accounts.admin.id },
      ]);
    });

    it('publishes permission.invalidate with the app pattern for grants to an app', async () => {
      const input = { subjectType: 'APP', subject: 'de.easy-m.todos', action: 'events.publish', resource: 'app.*' };
      expect((await ok(admin.gql(GRANT, { input }))).grantPermission).toBe(true);
      const event = await waitForEvent('permission.invalidate', (d) => d.appName === 'de.easy-m.todos');
      expect(event.data).toEqual({ appName: 'de.easy-m.todos', pattern: 'app:de.easy-m.todos:*', change: 'granted', grant: input, changedBy: accounts.admin.id });
      const badSubject = await admin.gql(GRANT, { input: { ...input, subject: 'Not An App' } });
      expect(badSubject.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'input.subject' }] });
      const unknownUser = await admin.gql(GRANT, { input: { ...input, subjectType: 'USER', subject: '00000000-0000-4000-8000-000000000000' } });
      expect(unknownUser.errors![0].extensions!.code).toBe('NOT_FOUND');
    });

    it('applies a role change from the next request on, and keeps the last admin', async () => {
      const promoted = await createAccount(`promoted-${unique()}@matrix.test`);
      const client = await server.login(promoted.email, PASSWORD);
      expect((await client.gql('{ users { id } }')).errors![0].extensions!.code).toBe('FORBIDDEN');
      await ok(admin.gql('mutation($id: ID!) { updateUser(id: $id, input: { role: ADMIN }) { role } }', { id: promoted.id }));
      expect((await client.gql('{ users { id } }')).errors).toBeUndefined();
      await waitForEvent('permission.invalidate', (d) => d.pattern === `user:${promoted.id}:*` && d.change === 'role-changed');

      await ok(client.gql('mutation($id: ID!) { updateUser(id: $id, input: { role: USER }) { role } }', { id: promoted.id }));
      expect((await client.gql('{ users { id } }')).errors![0].extensions!.code).toBe('FORBIDDEN');
      const demoteLast = await admin.gql('mutation($id: ID!) { updateUser(id: $id, input: { role: USER }) { role } }', { id: accounts.admin.id });
      expect(demoteLast.errors![0]).toMatchObject({ extensions: { code: 'CONFLICT' }, message: expect.stringMatching(/last admin/) });
      const deleteLast = await admin.gql('mutation($id: ID!) { deleteUser(id: $id) }', { id: accounts.admin.id });
      expect(deleteLast.errors![0].extensions!.code).toBe('CONFLICT');
    });
  });
});
