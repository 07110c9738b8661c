import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { Client } from 'pg';
import { GraphQLResponse, RunningServer, TEST_ADMIN } from '../support/app-server-harness';
import { createTestDatabase, TestDatabase } from '../support/database';
import { describeWith } from '../support/services';
import { waitFor } from '../support/wait-for';

const PASSWORD = 'throttle suite password';
const LOCKOUT_MS = 1500;
const PER_ADDRESS = 8;
const LOGIN = 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }';
const unique = () => randomBytes(4).toString('hex');

/**
 * Posts a login from a chosen loopback address (127.0.0.0/8 all reach the
 * server), so each case has client addresses of its own, the way requests
 * from different machines would arrive.
 */
function loginFrom(url: string, localAddress: string, email: string, password: string): Promise<GraphQLResponse> {
  const body = JSON.stringify({ query: LOGIN, variables: { e: email, p: password } });
  return new Promise((resolve, reject) => {
    const req = request(`${url}/graphql`, { method: 'POST', localAddress, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        const parsed = JSON.parse(text) as { data?: Record<string, any>; errors?: GraphQLResponse['errors'] };
        resolve({ status: res.statusCode ?? 0, data: parsed.data, errors: parsed.errors, headers: new Headers() });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Failed logins are refused for a while after too many per account (5) or per
 * client address (8 here), with an answer that never tells whether the
 * account exists. Against a server on PostgreSQL and RabbitMQ, over HTTP.
 */
describeWith(['postgres', 'rabbitmq'], 'login throttling (PostgreSQL + RabbitMQ)', () => {
  let database: TestDatabase;
  let server: RunningServer;
  let sql: Client;
  let addressSeq = 10;
  /** A loopback address no other case has used. */
  const freshAddress = () => `127.0.0.${addressSeq++}`;

  beforeAll(async () => {
    database = await createTestDatabase();
    server = await RunningServer.start({
      transport: 'rabbitmq',
      namespace: `throttle-${unique()}`,
      databaseUrl: database.url,
      sessions: { throttle: { maxFailuresPerAccount: 5, maxFailuresPerAddress: PER_ADDRESS, lockoutMs: LOCKOUT_MS } },
    });
    sql = new Client({ connectionString: database.url });
    await sql.connect();
  });

  afterAll(async () => {
    await sql?.end();
    await server?.close();
    await database?.drop();
  });

  async function createUser(): Promise<string> {
    const admin = await server.loginAsAdmin();
    const email = `user-${unique()}@throttle.test`;
    const response = await admin.gql('mutation($input: CreateUserInput!) { createUser(input: $input) { id } }', { input: { email, password: PASSWORD } });
    if (response.errors) throw new Error(JSON.stringify(response.errors));
    return email;
  }

  const codeOf = (response: GraphQLResponse) => response.errors?.[0]?.extensions?.code ?? 'OK';
  const throttled = (response: GraphQLResponse) => /^Too many failed login attempts; try again in \d+ seconds$/.test(response.errors?.[0]?.message ?? '');

  it('refuses an account after 5 failures, even with the right password, and lets it in once the lockout is over', async () => {
    const email = await createUser();
    for (let i = 0; i < 5; i++) {
      const failure = await loginFrom(server.url, freshAddress(), email, 'a wrong password!');
      expect(failure.errors![0]).toMatchObject({ message: 'Invalid email or password', extensions: { code: 'UNAUTHENTICATED' } });
    }

    const refused = await loginFrom(server.url, freshAddress(), email, PASSWORD);
    expect(throttled(refused)).toBe(true);
    expect(refused.errors![0].extensions).toEqual({ code: 'UNAUTHENTICATED', retryAfterSeconds: expect.any(Number) });
    expect(refused.errors![0].extensions!.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(refused.errors![0].extensions!.retryAfterSeconds).toBeLessThanOrEqual(Math.ceil(LOCKOUT_MS / 1000));
    expect(refused.data).toBeNull();

    await new Promise((resolve) => setTimeout(resolve, LOCKOUT_MS + 100));
    expect(codeOf(await loginFrom(server.url, freshAddress(), email, PASSWORD))).toBe('OK');
  });

  it('refuses an unknown email after 5 failures with the very same answer, so it reveals nothing about who exists', async () => {
    const known = await createUser();
    const unknown = `nobody-${unique()}@throttle.test`;
    const answers: Record<string, GraphQLResponse[]> = { known: [], unknown: [] };
    for (let i = 0; i < 6; i++) {
      answers.known.push(await loginFrom(server.url, freshAddress(), known, 'a wrong password!'));
      answers.unknown.push(await loginFrom(server.url, freshAddress(), unknown, 'a wrong password!'));
    }
    const shape = (response: GraphQLResponse) => ({
      status: response.status,
      message: response.errors![0].message.replace(/\d+ seconds/, 'N seconds'),
      code: response.errors![0].extensions!.code,
      keys: Object.keys(response.errors![0].extensions!).sort(),
    });
    expect(answers.unknown.map(shape)).toEqual(answers.known.map(shape));
    expect(answers.known.slice(0, 5).every((response) => response.errors![0].message === 'Invalid email or password')).toBe(true);
    expect(throttled(answers.known[5])).toBe(true);
  });

  it('refuses an address after its own limit across many accounts, while the same account logs in from elsewhere', async () => {
    const email = await createUser();
    const spraying = freshAddress();
    for (let i = 0; i < PER_ADDRESS; i++) {
      expect(codeOf(await loginFrom(server.url, spraying, `sprayed-${i}-${unique()}@throttle.test`, 'a wrong password!'))).toBe('UNAUTHENTICATED');
    }

    expect(throttled(await loginFrom(server.url, spraying, email, PASSWORD))).toBe(true);
    expect(codeOf(await loginFrom(server.url, freshAddress(), email, PASSWORD))).toBe('OK');
  });

  it('counts concurrent guesses before their slow verification finishes, so a burst gets no more than 5 tries', async () => {
    const email = await createUser();
    const burst = await Promise.all(Array.from({ length: 12 }, () => loginFrom(server.url, freshAddress(), email, 'a wrong password!')));
    expect(burst.filter((response) => response.errors![0].message === 'Invalid email or password')).toHaveLength(5);
    expect(burst.filter(throttled)).toHaveLength(7);
  });

  it('creates no session and publishes nothing for refused logins', async () => {
    const email = await createUser();
    const userId = (await sql.query('SELECT id FROM users WHERE email = $1', [email])).rows[0].id;
    for (let i = 0; i < 7; i++) await loginFrom(server.url, freshAddress(), email, i % 2 ? 'a wrong password!' : PASSWORD.toUpperCase());
    const admin = await server.login(TEST_ADMIN.email, TEST_ADMIN.password);
    const name = `de.barrier.app-${unique()}`;
    await admin.gql('mutation($input: RegisterAppInput!) { registerApp(input: $input) { id } }', { input: { name, version: '1.0.0' } });
    await waitFor(() => server.events.some((e) => e.type === 'app.registered' && (e.data as { appName: string }).appName === name), 'the barrier');

    expect((await sql.query('SELECT 1 FROM sessions WHERE user_id = $1', [userId])).rowCount).toBe(0);
    expect(server.events.filter((e) => e.type === 'session.created' && (e.data as { userId: string }).userId === userId)).toEqual([]);
  });
});
