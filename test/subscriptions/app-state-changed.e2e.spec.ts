import { randomBytes } from 'node:crypto';
import { createTestDatabase, TestDatabase } from '../support/database';
import { describeWith, TEST_RABBITMQ_URL } from '../support/services';
import { waitFor } from '../support/wait-for';
import { ServerProcess, TestVhost } from '../support/server-process';
import { WebSocketCloseCodes } from '../../src/graphql/websocket-connections';
import { ApolloSubscriber } from './support/apollo-subscriber';

const REGISTER = 'mutation($input: RegisterAppInput!) { registerApp(input: $input) { id } }';
const INSTALL = 'mutation($name: String!) { installApp(name: $name) { state installedAt } }';
const UNINSTALL = 'mutation($name: String!) { uninstallApp(name: $name) { state } }';

/**
 * `appStateChanged` as an Apollo frontend uses it: Apollo Client with
 * GraphQLWsLink, connected to instance B, while the changes go through
 * instance A — two server processes sharing PostgreSQL and RabbitMQ.
 */
describeWith(['postgres', 'rabbitmq'], 'appStateChanged across instances (Apollo Client, graphql-ws, RabbitMQ)', () => {
  let database: TestDatabase;
  let vhost: TestVhost;
  let a: ServerProcess;
  let b: ServerProcess;
  const subscribers: ApolloSubscriber[] = [];
  const run = randomBytes(3).toString('hex');
  const appName = (label: string) => `de.sub.${label}-${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    database = await createTestDatabase();
    vhost = await TestVhost.create();
    const env = (instance: string): Record<string, string> => ({
      APPSERVER_INSTANCE_ID: `sub-${instance}-${run}`,
      APPSERVER_DATABASE_URL: database.url,
      APPSERVER_EVENTBUS_ENABLED: 'true',
      APPSERVER_EVENTBUS_TEST_MODE: 'true',
      APPSERVER_EVENTBUS_NAMESPACE: `sub-${run}`,
      APPSERVER_RABBITMQ_URL: TEST_RABBITMQ_URL,
      APPSERVER_RABBITMQ_VHOST: vhost.name,
    });
    // One after the other: both would create the first admin and run the migrations (both are safe, but slower together).
    a = await ServerProcess.start('A', env('a'));
    b = await ServerProcess.start('B', env('b'));
    await a.loginAsAdmin();
  });

  afterEach(async () => {
    await Promise.all(subscribers.splice(0).map((s) => s.close()));
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await vhost?.delete();
    await database?.drop();
  });

  const mutateOnA = async (query: string, variables: Record<string, unknown>) => {
    const response = await a.gql(query, variables);
    if (response.errors) throw new Error(JSON.stringify(response.errors));
    return response.data!;
  };

  const login = async (server: ServerProcess, email: string, password: string) => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token sessionId } }',
        variables: { e: email, p: password },
      }),
    });
    const body = (await response.json()) as { data?: { login: { token: string; sessionId: string } }; errors?: unknown };
    if (!body.data) throw new Error(`login failed: ${JSON.stringify(body.errors)}`);
    return body.data.login;
  };

  /** A user with `apps.read` on `resource` (or no grant at all), logged in on B. */
  const userOnB = async (resource?: string) => {
    const email = `reader-${randomBytes(4).toString('hex')}@appserver.test`;
    const password = 'a perfectly long password';
    const { createUser } = await mutateOnA('mutation($i: CreateUserInput!) { createUser(input: $i) { id } }', { i: { email, password } });
    if (resource) {
      await mutateOnA('mutation($i: PermissionInput!) { grantPermission(input: $i) }', {
        i: { subjectType: 'USER', subject: createUser.id, action: 'apps.read', resource },
      });
    }
    return { email, password, ...(await login(b, email, password)) };
  };

  const subscribeOnB = async (token: string | undefined, appNames?: string[]) => {
    const subscriber = new ApolloSubscriber(b.url, token).subscribe(appNames);
    subscribers.push(subscriber);
    await waitFor(() => subscriber.connected || subscriber.closes.length > 0, 'the socket to connect or close');
    return subscriber;
  };

  const adminOnB = async () => (await login(b, 'admin@appserver.test', 'correct horse battery staple')).token;

  it('delivers install and uninstall made through A to a client on B, in order, with the app fields', async () => {
    const subscriber = await subscribeOnB(await adminOnB());
    const name = appName('walk');
    const { registerApp } = await mutateOnA(REGISTER, { input: { name, version: '2.1.0' } });
    const { installApp } = await mutateOnA(INSTALL, { name });
    await mutateOnA(UNINSTALL, { name });

    await waitFor(() => subscriber.of(name).length === 3, 'registered, installed, uninstalled', {
      describe: () => JSON.stringify(subscriber.of(name)),
    });
    expect(subscriber.of(name)).toEqual([
      { __typename: 'App', id: registerApp.id, name, state: 'REGISTERED', version: '2.1.0', installedAt: null },
      { __typename: 'App', id: registerApp.id, name, state: 'INSTALLED', version: '2.1.0', installedAt: installApp.installedAt },
      { __typename: 'App', id: registerApp.id, name, state: 'UNINSTALLED', version: '2.1.0', installedAt: installApp.installedAt },
    ]);
    expect(subscriber.errors).toEqual([]);
  });

  it('applies the filter: a client sees only the apps it asked for', async () => {
    const token = await adminOnB();
    const wanted = appName('wanted');
    const other = appName('other');
    const filtered = await subscribeOnB(token, [wanted]);
    const everything = await subscribeOnB(token);

    await mutateOnA(REGISTER, { input: { name: other, version: '1.0.0' } });
    await mutateOnA(REGISTER, { input: { name: wanted, version: '1.0.0' } });
    await waitFor(() => filtered.of(wanted).length === 1 && everything.of(other).length === 1 && everything.of(wanted).length === 1, 'both clients');

    expect(filtered.received.map((app) => app.name)).toEqual([wanted]);
  });

  it('sends a client only the apps it may read (apps.read on the app name)', async () => {
    const visible = appName('visible');
    const hidden = `de.hidden.app-${randomBytes(3).toString('hex')}`;
    const reader = await userOnB('de.sub.visible-*');
    const nobody = await userOnB();
    const readerSubscriber = await subscribeOnB(reader.token);
    const nobodySubscriber = await subscribeOnB(nobody.token);
    const admin = await subscribeOnB(await adminOnB());

    await mutateOnA(REGISTER, { input: { name: hidden, version: '1.0.0' } });
    await mutateOnA(REGISTER, { input: { name: visible, version: '1.0.0' } });
    await waitFor(() => admin.of(hidden).length === 1 && admin.of(visible).length === 1 && readerSubscriber.of(visible).length === 1, 'deliveries');

    expect(readerSubscriber.received.map((app) => app.name)).toEqual([visible]);
    expect(nobodySubscriber.received).toEqual([]);
  });

  it('refuses a socket without a valid token with close code 4401', async () => {
    const anonymous = await subscribeOnB(undefined);
    const forged = await subscribeOnB('not-a-real-token');
    await waitFor(() => anonymous.closes.length > 0 && forged.closes.length > 0, 'both sockets to close');

    for (const subscriber of [anonymous, forged]) {
      expect(subscriber.closes[0]).toEqual({ code: WebSocketCloseCodes.UNAUTHORIZED, reason: expect.stringMatching(/Unauthorized/) });
      expect(subscriber.received).toEqual([]);
    }
  });

  it('closes the socket of a session revoked through the other instance, and lets the client authenticate again', async () => {
    const user = await userOnB('de.sub.*');
    const subscriber = await subscribeOnB(user.token);
    expect(subscriber.connected).toBe(true);

    // The user logs out through A; B learns it from session.revoked on the bus.
    const logout = await fetch(`${a.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
      body: JSON.stringify({ query: 'mutation { logout }' }),
    });
    expect(((await logout.json()) as { data: { logout: boolean } }).data.logout).toBe(true);
    await waitFor(() => subscriber.closes.length > 0, 'the socket to be closed');
    expect(subscriber.closes[0]).toEqual({ code: WebSocketCloseCodes.SESSION_ENDED, reason: 'Session revoked' });

    const again = await login(b, user.email, user.password);
    const renewed = await subscribeOnB(again.token);
    const name = appName('after-relogin');
    await mutateOnA(REGISTER, { input: { name, version: '1.0.0' } });
    await waitFor(() => renewed.of(name).length === 1, 'the renewed subscription to receive');
  });
});
