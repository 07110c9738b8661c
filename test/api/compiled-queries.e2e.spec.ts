import { randomBytes } from 'node:crypto';
import { CompiledQueryExecutor } from '../../src/graphql/compiled-query-executor';
import { SettingsService } from '../../src/settings/settings.service';
import { GraphqlClient, GraphQLResponse, RunningServer } from '../support/app-server-harness';
import { CapturingLogger } from '../support/capturing-logger';

const SETTINGS = 'query Settings($appName: String!) { appSettings(appName: $appName) { appName values version updatedAt } }';

/**
 * A query's first run goes through graphql-js, its later runs through the
 * function compiled for it (CompiledQueryExecutor). A client must not be able
 * to tell them apart: the same status, data and errors, the same codes, and
 * a fault logged once per run either way. No services needed.
 */
describe('queries compiled from their second run', () => {
  const logger = new CapturingLogger();
  let server: RunningServer;
  let admin: GraphqlClient;
  let reader: GraphqlClient;
  let outsider: GraphqlClient;
  const appName = `de.compiled.app-${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    server = await RunningServer.start({
      transport: 'memory',
      namespace: `compiled-${randomBytes(3).toString('hex')}`,
      database: { embeddedFile: ':memory:' },
      logger,
    });
    admin = await server.loginAsAdmin();
    await admin.gql('mutation($i: RegisterAppInput!) { registerApp(input: $i) { id } }', { i: { name: appName, version: '1.0.0' } });
    await admin.gql('mutation($a: String!, $v: JSON!) { updateAppSettings(appName: $a, values: $v) { version } }', {
      a: appName,
      v: { theme: 'dark', nested: { pageSize: 20 } },
    });
    reader = await userWith('settings.read');
    outsider = await userWith(undefined);
  });

  afterAll(() => server?.close());
  afterEach(() => jest.restoreAllMocks());

  async function userWith(action: string | undefined): Promise<GraphqlClient> {
    const email = `user-${randomBytes(3).toString('hex')}@appserver.test`;
    const created = await admin.gql('mutation($i: CreateUserInput!) { createUser(input: $i) { id } }', { i: { email, password: 'user password 1' } });
    if (action) {
      const granted = await admin.gql('mutation($i: PermissionInput!) { grantPermission(input: $i) }', {
        i: { subjectType: 'USER', subject: created.data!.createUser.id, action, resource: appName },
      });
      expect(granted.errors).toBeUndefined();
    }
    return server.login(email, 'user password 1');
  }

  /** A query text the server has not seen yet (its first run is interpreted), sent three times. */
  async function threeRuns(client: GraphqlClient, query: string, variables?: Record<string, unknown>): Promise<Array<Omit<GraphQLResponse, 'headers'>>> {
    const fresh = `${query} # ${randomBytes(4).toString('hex')}`;
    const answers = [];
    for (let run = 0; run < 3; run++) {
      const { status, data, errors } = await client.gql(fresh, variables);
      answers.push({ status, data, errors });
    }
    return answers;
  }

  const compiledQueries = () => server.app.get(CompiledQueryExecutor).compiledQueries;

  // The last column: whether the query is compiled (an anonymous caller's never is; nor one Apollo cannot resolve).
  it.each([
    ["an app's settings", () => threeRuns(reader, SETTINGS, { appName }), 'data', true],
    ['null for an app that does not exist', () => threeRuns(admin, SETTINGS, { appName: 'de.compiled.no-such-app' }), 'data', true],
    ['FORBIDDEN without the permission', () => threeRuns(outsider, SETTINGS, { appName }), 'FORBIDDEN', true],
    ['UNAUTHENTICATED without a session', () => threeRuns(server.anonymous(), SETTINGS, { appName }), 'UNAUTHENTICATED', false],
    ['BAD_USER_INPUT for an argument its class refuses', () => threeRuns(admin, SETTINGS, { appName: 'Not A Name!' }), 'BAD_USER_INPUT', true],
    ['BAD_USER_INPUT for a variable that is missing', () => threeRuns(admin, SETTINGS, {}), 'BAD_USER_INPUT', true],
    ['BAD_USER_INPUT for a variable of the wrong type', () => threeRuns(admin, SETTINGS, { appName: 42 }), 'BAD_USER_INPUT', true],
    ['several fields, aliases, nested objects and enums', () => threeRuns(admin, `{ me { id email } apps { name state } one: app(name: "${appName}") { name } }`), 'data', true],
    ['two operations and no operation name', () => threeRuns(admin, 'query A { me { id } } query B { apps { name } }'), 'OPERATION_RESOLUTION_FAILURE', false],
  ])('answers the same on every run: %s', async (_case, send, expected, compiled) => {
    const before = compiledQueries();
    const [first, ...later] = await send();

    expect(compiledQueries() - before).toBe(compiled ? 1 : 0);
    for (const answer of later) expect(answer).toEqual(first);
    if (expected === 'data') {
      expect(first.errors).toBeUndefined();
      expect(first.status).toBe(200);
    } else {
      expect(first.errors!.map((error) => error.extensions?.code)).toEqual([expected]);
    }
  });

  it('introspects the schema Nest sorted, the one schema.gql shows, and never compiles introspection', async () => {
    const before = compiledQueries();
    const answers = await threeRuns(admin, '{ __type(name: "App") { fields { name } } }');

    expect(compiledQueries()).toBe(before);

    const names = answers[0].data!.__type.fields.map((field: { name: string }) => field.name);
    expect(names).toEqual([...names].sort());
    expect(names).toContain('installedAt');
  });

  it('answers a fault with INTERNAL_SERVER_ERROR every run, and logs it once for each', async () => {
    jest.spyOn(server.app.get(SettingsService), 'find').mockImplementation(() => {
      throw new Error('the settings store is on fire');
    });
    const faults = () => logger.lines.filter((line) => line.startsWith('error ') && line.includes('the settings store is on fire'));

    const before = compiledQueries();
    const answers = await threeRuns(admin, SETTINGS, { appName });

    expect(compiledQueries() - before).toBe(1);
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    expect(answers[0].errors).toEqual([
      { message: 'Internal server error', locations: [{ line: 1, column: 37 }], path: ['appSettings'], extensions: { code: 'INTERNAL_SERVER_ERROR' } },
    ]);
    expect(answers[0].data).toEqual({ appSettings: null });
    expect(faults()).toHaveLength(3);
  });

  it('compiles nothing on a server told not to (compileQueries: false), and answers alike', async () => {
    const interpreting = await RunningServer.start({
      transport: 'memory',
      namespace: `interpreted-${randomBytes(3).toString('hex')}`,
      database: { embeddedFile: ':memory:' },
      graphql: { compileQueries: false },
    });
    try {
      const client = await interpreting.loginAsAdmin();
      const answers = [];
      for (let run = 0; run < 3; run++) answers.push((await client.gql('{ me { email } }')).data);

      expect(answers).toEqual(Array(3).fill({ me: { email: 'admin@appserver.test' } }));
      expect(interpreting.app.get(CompiledQueryExecutor).compiledQueries).toBe(0);
    } finally {
      await interpreting.close();
    }
  });
});
