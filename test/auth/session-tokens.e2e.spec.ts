import { createHash, randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { SessionSweeper } from '../../src/sessions/session-sweeper';
import { PasswordHasher } from '../../src/users/password-hasher';
import { GraphqlClient, GraphQLResponse, RunningServer, TEST_ADMIN } from '../support/app-server-harness';
import { CapturingLogger } from '../support/capturing-logger';
import { createTestDatabase, TestDatabase } from '../support/database';
import { describeWith } from '../support/services';
import { waitFor } from '../support/wait-for';

const PASSWORD = 'token suite password';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const unique = () => randomBytes(4).toString('hex');

/**
 * Session tokens end to end, on PostgreSQL and RabbitMQ over HTTP: what a
 * token is and how it is stored, when it stops working (logout, revocation,
 * expiry, the user's deletion), and that no token, password or hash ever
 * shows up in a log line, an event, an error or the audit log.
 */
describeWith(['postgres', 'rabbitmq'], 'session tokens (PostgreSQL + RabbitMQ)', () => {
  let database: TestDatabase;
  let server: RunningServer;
  let sql: Client;
  let admin: GraphqlClient;
  const logger = new CapturingLogger();
  /** Every answer the server gave in this suite, searched for secrets at the end. */
  const responses: GraphQLResponse[] = [];
  const issuedTokens: string[] = [];
  const passwords = [PASSWORD, TEST_ADMIN.password];

  beforeAll(async () => {
    database = await createTestDatabase();
    // The sweeper is run by hand here, so each case decides when sessions expire.
    server = await RunningServer.start({
      transport: 'rabbitmq',
      namespace: `tokens-${unique()}`,
      databaseUrl: database.url,
      logger,
      sessions: { sweepIntervalMs: 3_600_000 },
    });
    sql = new Client({ connectionString: database.url });
    await sql.connect();
    admin = await login(TEST_ADMIN.email, TEST_ADMIN.password);
  });

  afterAll(async () => {
    await sql?.end();
    await server?.close();
    await database?.drop();
  });

  async function send(client: GraphqlClient, query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse> {
    const response = await client.gql(query, variables);
    responses.push(response);
    return response;
  }

  async function login(email: string, password: string): Promise<GraphqlClient> {
    const client = await server.login(email, password);
    issuedTokens.push(client.token!);
    return client;
  }

  async function createUser(): Promise<{ id: string; email: string }> {
    const email = `user-${unique()}@tokens.test`;
    const response = await send(admin, 'mutation($input: CreateUserInput!) { createUser(input: $input) { id } }', { input: { email, password: PASSWORD } });
    return { id: response.data!.createUser.id, email };
  }

  const sessionRow = async (token: string) => (await sql.query('SELECT * FROM sessions WHERE token_hash = $1', [sha256(token)])).rows[0];
  const meCode = async (client: GraphqlClient) => (await send(client, '{ me { id } }')).errors?.[0]?.extensions?.code ?? 'OK';
  const eventsOf = (type: string, sessionId: string) => server.events.filter((e) => e.type === type && (e.data as { sessionId?: string }).sessionId === sessionId);
  const barrier = async () => {
    const name = `de.barrier.app-${unique()}`;
    await send(admin, 'mutation($input: RegisterAppInput!) { registerApp(input: $input) { id } }', { input: { name, version: '1.0.0' } });
    await waitFor(() => server.events.some((e) => e.type === 'app.registered' && (e.data as { appName: string }).appName === name), 'the barrier');
  };

  it('hands out an opaque 256-bit token and stores only its SHA-256, with an expiry 12 hours out', async () => {
    const user = await createUser();
    const before = Date.now();
    const response = await send(
      server.anonymous(),
      'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token sessionId expiresAt user { id email } } }',
      { e: user.email.toUpperCase(), p: PASSWORD },
    );
    const { token, sessionId, expiresAt, user: loggedIn } = response.data!.login;
    issuedTokens.push(token);

    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(loggedIn).toEqual({ id: user.id, email: user.email });
    expect(Date.parse(expiresAt) - before).toBeGreaterThan(12 * 3_600_000 - 60_000);
    expect(Date.parse(expiresAt) - before).toBeLessThanOrEqual(12 * 3_600_000 + 60_000);
    const row = await sessionRow(token);
    expect(row).toMatchObject({ id: sessionId, user_id: user.id, token_hash: sha256(token), ended_at: null });
    expect(JSON.stringify(row)).not.toContain(token);
    await waitFor(() => eventsOf('session.created', sessionId).length === 1, 'session.created');
    expect(eventsOf('session.created', sessionId)[0].data).toEqual({ sessionId, userId: user.id, expiresAt: new Date(expiresAt).toISOString() });
  });

  it.each([
    ['no Authorization header', undefined],
    ['a malformed token', 'Bearer not-a-token'],
    ['an unknown well-formed token', `Bearer ${randomBytes(32).toString('base64url')}`],
    ['another scheme', 'Basic YWRtaW46cGFzc3dvcmQ='],
    ['a token without its scheme', 'TOKEN'],
  ])('answers UNAUTHENTICATED for %s, without echoing what was sent', async (_, authorization) => {
    const sent = authorization === 'TOKEN' ? admin.token! : authorization;
    const response = await server.gql('{ me { id } }', undefined, sent ? { authorization: sent } : {});
    responses.push(response);
    expect(response.errors).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/^Not authenticated: log in and send the session token as "Authorization: Bearer <token>"/),
        extensions: { code: 'UNAUTHENTICATED' },
      }),
    ]);
    if (sent) expect(JSON.stringify(response)).not.toContain(sent.replace(/^\w+ /, ''));
  });

  it('refuses a token on the very next request after logout, and publishes session.revoked without it', async () => {
    const user = await createUser();
    const client = await login(user.email, PASSWORD);
    const sessionId = (await sessionRow(client.token!)).id;
    expect(await meCode(client)).toBe('OK');

    expect((await send(client, 'mutation { logout }')).data).toEqual({ logout: true });
    expect(await meCode(client)).toBe('UNAUTHENTICATED');
    expect((await send(client, 'mutation { logout }')).errors![0].extensions!.code).toBe('UNAUTHENTICATED');

    expect(await sessionRow(client.token!)).toMatchObject({ end_reason: 'logout', ended_by: user.id });
    await waitFor(() => eventsOf('session.revoked', sessionId).length === 1, 'session.revoked');
    expect(eventsOf('session.revoked', sessionId)[0].data).toEqual({ sessionId, userId: user.id, revokedBy: user.id, reason: 'logout' });
  });

  it('refuses a token on the next request once an admin revoked its session; revoking again answers false', async () => {
    const user = await createUser();
    const client = await login(user.email, PASSWORD);
    const other = await login(user.email, PASSWORD);
    const sessionId = (await sessionRow(client.token!)).id;

    expect((await send(admin, 'mutation($id: ID!) { revokeSession(id: $id) }', { id: sessionId })).data).toEqual({ revokeSession: true });
    expect(await meCode(client)).toBe('UNAUTHENTICATED');
    expect(await meCode(other)).toBe('OK');
    expect((await send(admin, 'mutation($id: ID!) { revokeSession(id: $id) }', { id: sessionId })).data).toEqual({ revokeSession: false });
    const unknown = await send(admin, 'mutation($id: ID!) { revokeSession(id: $id) }', { id: '00000000-0000-4000-8000-000000000000' });
    expect(unknown.errors![0].extensions!.code).toBe('NOT_FOUND');
    await waitFor(() => eventsOf('session.revoked', sessionId).length === 1, 'session.revoked');
    expect(eventsOf('session.revoked', sessionId)[0].data).toMatchObject({ reason: 'revoked', revokedBy: expect.any(String) });
    await barrier();
    expect(eventsOf('session.revoked', sessionId)).toHaveLength(1);
  });

  it('refuses an expired token on the next request; the sweeper ends the session once and publishes session.expired once', async () => {
    const user = await createUser();
    const client = await login(user.email, PASSWORD);
    const sessionId = (await sessionRow(client.token!)).id;
    await sql.query(`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = $1`, [sessionId]);

    expect(await meCode(client)).toBe('UNAUTHENTICATED');
    const sweeper = server.app.get(SessionSweeper);
    expect(await sweeper.sweepExpired()).toBeGreaterThanOrEqual(1);
    expect(await sessionRow(client.token!)).toMatchObject({ end_reason: 'expired', ended_by: 'system' });
    expect(await sweeper.sweepExpired()).toBe(0);

    await waitFor(() => eventsOf('session.expired', sessionId).length === 1, 'session.expired');
    expect(eventsOf('session.expired', sessionId)[0].data).toEqual({ sessionId, userId: user.id });
    await barrier();
    expect(eventsOf('session.expired', sessionId)).toHaveLength(1);
    expect(await meCode(client)).toBe('UNAUTHENTICATED');
  });

  it("refuses a deleted user's tokens at once, then revokes their sessions and drops their grants in reaction to user.deleted", async () => {
    const user = await createUser();
    const first = await login(user.email, PASSWORD);
    const second = await login(user.email, PASSWORD);
    const sessionIds = [(await sessionRow(first.token!)).id, (await sessionRow(second.token!)).id];
    const grant = { subjectType: 'USER', subject: user.id, action: 'apps.read', resource: '*' };
    await send(admin, 'mutation($input: PermissionInput!) { grantPermission(input: $input) }', { input: grant });

    expect((await send(admin, 'mutation($id: ID!) { deleteUser(id: $id) }', { id: user.id })).data).toEqual({ deleteUser: true });
    expect(await meCode(first)).toBe('UNAUTHENTICATED');
    expect(await meCode(second)).toBe('UNAUTHENTICATED');

    await waitFor(() => sessionIds.every((id) => eventsOf('session.revoked', id).length === 1), 'both sessions revoked');
    const deleted = server.events.find((e) => e.type === 'user.deleted' && (e.data as { userId: string }).userId === user.id)!;
    expect(deleted.data).toEqual({ userId: user.id, deletedBy: expect.any(String) });
    for (const id of sessionIds) {
      const [revoked] = eventsOf('session.revoked', id);
      expect(revoked.data).toMatchObject({ userId: user.id, reason: 'user-deleted' });
      expect(revoked.causationId).toBe(deleted.id);
    }
    const rows = (await sql.query('SELECT end_reason FROM sessions WHERE user_id = $1', [user.id])).rows;
    expect(rows).toEqual([{ end_reason: 'user-deleted' }, { end_reason: 'user-deleted' }]);
    await waitFor(async () => (await sql.query('SELECT 1 FROM permission_grants WHERE subject = $1', [user.id])).rowCount === 0, 'the grant to go');
    const invalidations = () => server.events.filter((e) => e.type === 'permission.invalidate' && (e.data as { pattern: string }).pattern === `user:${user.id}:*`);
    // The deletion's own, and the grants' removal (the grant itself: one more, earlier).
    await waitFor(() => invalidations().filter((e) => (e.data as { change?: string }).change === 'user-deleted').length === 2, 'two invalidations');
  });

  it("ends a user's other sessions when they change their password, keeps the one they changed it in and any opened after", async () => {
    const user = await createUser();
    const current = await login(user.email, PASSWORD);
    const other = await login(user.email, PASSWORD);
    const otherId = (await sessionRow(other.token!)).id;
    const newPassword = `${PASSWORD} changed`;
    passwords.push(newPassword);

    const changed = await send(current, 'mutation($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id } }', {
      id: user.id,
      input: { password: newPassword, currentPassword: PASSWORD },
    });
    expect(changed.errors).toBeUndefined();
    const afterwards = await login(user.email, newPassword);

    await waitFor(async () => (await meCode(other)) === 'UNAUTHENTICATED', 'the other session to end');
    await waitFor(() => eventsOf('session.revoked', otherId).length === 1, 'session.revoked for the other session');
    expect(eventsOf('session.revoked', otherId)[0].data).toMatchObject({ userId: user.id, reason: 'revoked', revokedBy: user.id });
    const updated = server.events.find((e) => e.type === 'user.updated' && (e.data as { userId: string }).userId === user.id)!;
    expect(eventsOf('session.revoked', otherId)[0].causationId).toBe(updated.id);
    await barrier();
    expect(await meCode(current)).toBe('OK');
    expect(await meCode(afterwards)).toBe('OK');
    const open = (await sql.query('SELECT COUNT(*)::int AS n FROM sessions WHERE user_id = $1 AND ended_at IS NULL', [user.id])).rows[0].n;
    expect(open).toBe(2);
  });

  it('refuses a login whose password was changed while it was being checked, so no session outlives the change', async () => {
    const user = await createUser();
    const newPassword = `${PASSWORD} changed mid-login`;
    passwords.push(newPassword);
    const hasher = server.app.get(PasswordHasher);
    const verify = hasher.verify.bind(hasher);
    const spy = jest.spyOn(hasher, 'verify').mockImplementationOnce(async (password, hash) => {
      const matches = await verify(password, hash);
      // The change commits after this login checked the old password and before it opens its session.
      const changed = await send(admin, 'mutation($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id } }', {
        id: user.id,
        input: { password: newPassword },
      });
      expect(changed.errors).toBeUndefined();
      return matches;
    });
    try {
      const attempt = await server.gql('mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }', { e: user.email, p: PASSWORD });
      expect(attempt.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    } finally {
      spy.mockRestore();
    }
    const open = (await sql.query('SELECT COUNT(*)::int AS n FROM sessions WHERE user_id = $1 AND ended_at IS NULL', [user.id])).rows[0].n;
    expect(open).toBe(0);
    expect(await meCode(await login(user.email, newPassword))).toBe('OK');
  });

  it('decides by the password a session was opened with, not by clocks: a session stamped in the future still ends', async () => {
    const user = await createUser();
    const current = await login(user.email, PASSWORD);
    const aheadOfTime = await login(user.email, PASSWORD);
    // As if opened on an instance whose clock runs an hour fast.
    await sql.query(`UPDATE sessions SET created_at = now() + interval '1 hour' WHERE token_hash = $1`, [sha256(aheadOfTime.token!)]);
    const newPassword = `${PASSWORD} changed again`;
    passwords.push(newPassword);

    const changed = await send(current, 'mutation($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id } }', {
      id: user.id,
      input: { password: newPassword, currentPassword: PASSWORD },
    });
    expect(changed.errors).toBeUndefined();

    await waitFor(async () => (await meCode(aheadOfTime)) === 'UNAUTHENTICATED', 'the session stamped in the future to end');
    expect(await meCode(current)).toBe('OK');
  });

  it("ends every session of a user whose password an admin changed; other changes end none", async () => {
    const user = await createUser();
    const first = await login(user.email, PASSWORD);
    const second = await login(user.email, PASSWORD);
    const update = (input: Record<string, unknown>) =>
      send(admin, 'mutation($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id } }', { id: user.id, input });

    expect((await update({ displayName: 'Renamed' })).errors).toBeUndefined();
    await barrier();
    expect(await meCode(first)).toBe('OK');
    expect(await meCode(second)).toBe('OK');

    const newPassword = `${PASSWORD} reset by an admin`;
    passwords.push(newPassword);
    expect((await update({ password: newPassword })).errors).toBeUndefined();
    await waitFor(async () => (await meCode(first)) === 'UNAUTHENTICATED' && (await meCode(second)) === 'UNAUTHENTICATED', 'both sessions to end');
    expect(await meCode(admin)).toBe('OK');
  });

  it('answers an unknown email exactly as a wrong password, and publishes nothing for either', async () => {
    const user = await createUser();
    const query = 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }';
    const wrongPassword = await send(server.anonymous(), query, { e: user.email, p: 'not the password at all' });
    const unknownEmail = await send(server.anonymous(), query, { e: `nobody-${unique()}@tokens.test`, p: 'not the password at all' });

    expect(wrongPassword.errors).toEqual([expect.objectContaining({ message: 'Invalid email or password', extensions: { code: 'UNAUTHENTICATED' } })]);
    const answer = ({ status, data, errors }: GraphQLResponse) => ({ status, data, errors: errors!.map(({ message, path, extensions }) => ({ message, path, extensions })) });
    expect(answer(unknownEmail)).toEqual(answer(wrongPassword));
    await barrier();
    expect(server.events.filter((e) => e.type === 'session.created' && (e.data as { userId: string }).userId === user.id)).toEqual([]);
    expect((await sql.query('SELECT 1 FROM sessions WHERE user_id = $1', [user.id])).rowCount).toBe(0);
  });

  it('refuses a short password saying why, without echoing it; emails are validated and unique whatever their case', async () => {
    const create = (input: Record<string, unknown>) => send(admin, 'mutation($input: CreateUserInput!) { createUser(input: $input) { id email } }', { input });
    const short = await create({ email: `short-${unique()}@tokens.test`, password: 'hunter2hunt' });
    expect(short.errors![0].extensions).toEqual({
      code: 'BAD_USER_INPUT',
      fields: [{ field: 'password', reason: expect.stringMatching(/^password must be at least 12 characters: shorter ones fall quickly to offline guessing/) }],
    });
    expect(JSON.stringify(short)).not.toContain('hunter2hunt');

    const email = `Mixed.Case-${unique()}@Tokens.Test`;
    expect((await create({ email, password: PASSWORD })).data!.createUser.email).toBe(email.toLowerCase());
    const again = await create({ email: email.toUpperCase(), password: PASSWORD });
    expect(again.errors![0]).toMatchObject({ message: 'A user with this email already exists', extensions: { code: 'CONFLICT' } });
    const invalid = await create({ email: 'not an email', password: PASSWORD });
    expect(invalid.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'email', reason: 'email must be an email address' }] });
  });

  it('stores passwords as salted scrypt hashes, and user events carry neither', async () => {
    const first = await createUser();
    const second = await createUser();
    const hashes = (await sql.query('SELECT password_hash FROM users WHERE id = ANY($1)', [[first.id, second.id]])).rows.map((r) => r.password_hash);
    for (const hash of hashes) expect(hash).toMatch(/^scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(hashes[0]).not.toBe(hashes[1]);
    await waitFor(() => server.events.some((e) => e.type === 'user.created' && (e.data as { userId: string }).userId === second.id), 'user.created');
    const created = server.events.find((e) => e.type === 'user.created' && (e.data as { userId: string }).userId === second.id)!;
    expect(Object.keys(created.data).sort()).toEqual(['createdBy', 'email', 'role', 'userId']);
  });

  it('never lets a token, a password or a password hash into a log line, an event, an error or the audit log', async () => {
    // Give the log something to say: a refused call, and an audit entry to write.
    await send(server.anonymous(), '{ users { id } }');
    await barrier();
    await waitFor(async () => (await sql.query('SELECT 1 FROM audit_log')).rowCount! > 0, 'audit entries');
    const hashes = (await sql.query('SELECT password_hash FROM users')).rows.map((r) => r.password_hash as string);
    const secrets = [...issuedTokens, ...passwords, ...hashes, ...hashes.map((hash) => hash.split('$')[3])];
    expect(issuedTokens.length).toBeGreaterThanOrEqual(8);
    expect(logger.lines.length).toBeGreaterThan(10);

    const haystacks = {
      logs: logger.lines.join('\n'),
      events: JSON.stringify(server.events),
      responses: JSON.stringify(responses.map(({ data, errors }) => ({ data: stripLoginTokens(data), errors }))),
      outbox: (await sql.query('SELECT envelope::text AS text FROM outbox_messages')).rows.map((r) => r.text).join('\n'),
      auditLog: (await sql.query('SELECT details::text || summary AS text FROM audit_log')).rows.map((r) => r.text).join('\n'),
    };
    for (const [where, text] of Object.entries(haystacks)) {
      const leaked = secrets.filter((secret) => text.includes(secret));
      expect({ where, leaked }).toEqual({ where, leaked: [] });
    }
  });
});

/** A login's answer is the one place a token belongs; everything else the server said must not contain one. */
function stripLoginTokens(data: unknown): unknown {
  if (!data || typeof data !== 'object') return data;
  const login = (data as { login?: { token?: string } }).login;
  return login ? { ...data, login: { ...login, token: undefined } } : data;
}

describeWith(['postgres', 'rabbitmq'], 'the first admin (PostgreSQL + RabbitMQ)', () => {
  let database: TestDatabase;
  const servers: RunningServer[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await Promise.allSettled(servers.map((server) => server.close()));
    await database?.drop();
  });

  it('is created exactly once when instances boot together on an empty database, and again by none later', async () => {
    const namespace = `first-admin-${unique()}`;
    const start = () => RunningServer.start({ transport: 'rabbitmq', namespace, databaseUrl: database.url });
    servers.push(...(await Promise.all([start(), start(), start()])));
    servers.push(await start());

    const sql = new Client({ connectionString: database.url });
    await sql.connect();
    try {
      const admins = (await sql.query('SELECT id, role FROM users WHERE email = $1', [TEST_ADMIN.email])).rows;
      expect(admins).toEqual([{ id: expect.any(String), role: 'ADMIN' }]);
      const created = await sql.query(`SELECT envelope->'data' AS data FROM outbox_messages WHERE type = 'user.created'`);
      expect(created.rows).toEqual([{ data: { userId: admins[0].id, email: TEST_ADMIN.email, role: 'ADMIN', createdBy: 'system' } }]);
    } finally {
      await sql.end();
    }
    for (const server of servers) await expect(server.loginAsAdmin()).resolves.toBeInstanceOf(GraphqlClient);
  });
});
