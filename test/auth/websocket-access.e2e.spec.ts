import { randomBytes } from 'node:crypto';
import { Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { RunningServer } from '../support/app-server-harness';

type Result = { data?: Record<string, any> | null; errors?: ReadonlyArray<{ message: string; extensions?: Record<string, unknown> }> };

/**
 * Queries and mutations sent over graphql-ws pass the same AccessGuard as over
 * HTTP, with the principal established when the socket connected. (Connect-time
 * refusals and closing on revocation: test/subscriptions.) In process, on the
 * in-memory bus and an in-memory embedded database: no services needed.
 */
describe('access control over WebSocket', () => {
  let server: RunningServer;
  const clients: Client[] = [];

  beforeAll(async () => {
    server = await RunningServer.start({ transport: 'memory', namespace: `ws-access-${randomBytes(3).toString('hex')}`, database: { embeddedFile: ':memory:' } });
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await server?.close();
  });

  const socketFor = (token: string): Client => {
    const client = createClient({
      url: `${server.url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
      shouldRetry: () => false,
    });
    clients.push(client);
    return client;
  };

  const execute = (client: Client, query: string, variables?: Record<string, unknown>): Promise<Result> =>
    new Promise((resolve, reject) => {
      let result: Result = {};
      client.subscribe({ query, variables }, { next: (value) => (result = value as Result), error: reject, complete: () => resolve(result) });
    });

  const userWith = async (grants: Array<[string, string]>) => {
    const admin = await server.loginAsAdmin();
    const email = `ws-${randomBytes(4).toString('hex')}@appserver.test`;
    const password = 'a perfectly long password';
    const created = await admin.gql('mutation($i: CreateUserInput!) { createUser(input: $i) { id } }', { i: { email, password } });
    for (const [action, resource] of grants) {
      await admin.gql('mutation($i: PermissionInput!) { grantPermission(input: $i) }', {
        i: { subjectType: 'USER', subject: created.data!.createUser.id, action, resource },
      });
    }
    return (await server.login(email, password)).token!;
  };

  it('refuses a mutation over the socket without the permission, and changes nothing', async () => {
    const socket = socketFor(await userWith([['apps.read', '*']]));
    const name = `de.ws.denied-${randomBytes(3).toString('hex')}`;

    const refused = await execute(socket, 'mutation($i: RegisterAppInput!) { registerApp(input: $i) { id } }', { i: { name, version: '1.0.0' } });

    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const lookup = await execute(socket, 'query($n: String!) { app(name: $n) { name } }', { n: name });
    expect(lookup).toEqual({ data: { app: null } });
  });

  it('allows over the socket what the grants allow, on the resources they cover', async () => {
    const socket = socketFor(await userWith([['apps.register', 'de.ws.granted-*'], ['apps.read', 'de.ws.*']]));
    const name = `de.ws.granted-${randomBytes(3).toString('hex')}`;

    const registered = await execute(socket, 'mutation($i: RegisterAppInput!) { registerApp(input: $i) { name state } }', { i: { name, version: '1.0.0' } });
    expect(registered).toEqual({ data: { registerApp: { name, state: 'REGISTERED' } } });
    const elsewhere = await execute(socket, 'mutation($i: RegisterAppInput!) { registerApp(input: $i) { name } }', {
      i: { name: `de.other.app-${randomBytes(3).toString('hex')}`, version: '1.0.0' },
    });
    expect(elsewhere.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('answers a query that does not validate with GRAPHQL_VALIDATION_FAILED, as over HTTP', async () => {
    const socket = socketFor((await server.loginAsAdmin()).token!);
    const refused = await new Promise<ReadonlyArray<{ message: string; extensions?: Record<string, unknown> }>>((resolve) =>
      socket.subscribe({ query: '{ noSuchField }' }, { next: () => undefined, error: (errors) => resolve(errors as never), complete: () => undefined }),
    );
    expect(refused[0]).toMatchObject({ message: expect.stringMatching(/noSuchField/), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
  });

  it('refuses an operation deeper than the limit over the socket, as over HTTP', async () => {
    const admin = await server.loginAsAdmin();
    const socket = socketFor(admin.token!);
    // Introspection's ofType nests as deep as one likes: 13 levels here, the limit is 10.
    const deep = '{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } } }';

    const overSocket = await new Promise<ReadonlyArray<{ message: string; extensions?: Record<string, unknown> }>>((resolve) =>
      socket.subscribe({ query: deep }, { next: () => undefined, error: (errors) => resolve(errors as never), complete: () => resolve([]) }),
    );
    const overHttp = await admin.gql(deep);

    expect(overSocket).toEqual([
      expect.objectContaining({ message: 'Operation (anonymous) is 13 levels deep; the limit is 10', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }),
    ]);
    expect(overHttp.errors?.[0]).toMatchObject({ message: overSocket[0].message, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
  });

  it('closes a socket sending a message over 100 KB (1009), as HTTP refuses such a body, and serves the others', async () => {
    const token = (await server.loginAsAdmin()).token!;
    const raw = new WebSocket(`${server.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    const closed = new Promise<number>((resolve) => raw.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      raw.on('error', reject);
      raw.on('open', () => raw.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
      raw.on('message', (data) => {
        if (JSON.parse(String(data)).type === 'connection_ack') resolve();
      });
    });

    const consoleErrors = jest.spyOn(console, 'error');
    try {
      raw.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: `{ __typename ${' '.repeat(101 * 1024)}}` } }));

      expect(await closed).toBe(1009);
      // The client's doing, not an internal error: nothing on stderr (graphql-ws would print "Internal error …").
      expect(consoleErrors).not.toHaveBeenCalled();
    } finally {
      consoleErrors.mockRestore();
    }
    expect(await execute(socketFor(token), '{ __typename }')).toEqual({ data: { __typename: 'Query' } });
  });

  it('keeps admin-only operations for admins over the socket too', async () => {
    const user = socketFor(await userWith([['apps.read', '*']]));
    const admin = socketFor((await server.loginAsAdmin()).token!);

    expect((await execute(user, '{ users { id } }')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await execute(admin, '{ users { email } }')).data?.users).toEqual(expect.arrayContaining([{ email: 'admin@appserver.test' }]));
  });
});
