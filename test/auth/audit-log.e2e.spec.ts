import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { AnyEventEnvelope } from '../../src/event-bus/event-envelope';
import { GraphqlClient, GraphQLResponse, RunningServer } from '../support/app-server-harness';
import { createTestDatabase, TestDatabase } from '../support/database';
import { describeWith } from '../support/services';
import { waitFor } from '../support/wait-for';

const PASSWORD = 'audit suite password';
const unique = () => randomBytes(4).toString('hex');

interface AuditEntry {
  id: string;
  type: string;
  actor: string | null;
  target: string;
  summary: string;
  details: Record<string, unknown>;
  correlationId: string;
  occurredAt: string;
}

/**
 * The audit log on PostgreSQL and RabbitMQ: the group subscriber records the
 * sensitive events (and only those), once per event id even when the broker
 * delivers one twice; admins read it newest first.
 */
describeWith(['postgres', 'rabbitmq'], 'audit log (PostgreSQL + RabbitMQ)', () => {
  let database: TestDatabase;
  let server: RunningServer;
  let sql: Client;
  let admin: GraphqlClient;
  let adminId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    server = await RunningServer.start({ transport: 'rabbitmq', namespace: `audit-${unique()}`, databaseUrl: database.url });
    sql = new Client({ connectionString: database.url });
    await sql.connect();
    admin = await server.loginAsAdmin();
    adminId = (await ok(admin.gql('{ me { id } }'))).me.id;
  });

  afterAll(async () => {
    await sql?.end();
    await server?.close();
    await database?.drop();
  });

  async function ok<T = Record<string, any>>(pending: Promise<GraphQLResponse<T>>): Promise<T> {
    const response = await pending;
    if (response.errors) throw new Error(`GraphQL errors: ${JSON.stringify(response.errors)}`);
    return response.data!;
  }

  const entries = async (limit = 500): Promise<AuditEntry[]> =>
    (await ok(admin.gql('query($l: Int!) { auditLog(limit: $l) { id type actor target summary details correlationId occurredAt } }', { l: limit }))).auditLog;
  const entryFor = async (eventId: string) => (await entries()).find((entry) => entry.id === eventId);
  const eventOf = (type: string, match: (data: any) => boolean) => server.events.find((e) => e.type === type && match(e.data));
  const waitForEntryOf = async (type: string, match: (data: any) => boolean): Promise<[AnyEventEnvelope, AuditEntry]> => {
    await waitFor(() => eventOf(type, match) !== undefined, `a ${type} event`);
    const event = eventOf(type, match)!;
    await waitFor(async () => (await sql.query('SELECT 1 FROM audit_log WHERE event_id = $1', [event.id])).rowCount === 1, `the audit entry of ${type}`);
    return [event, (await entryFor(event.id))!];
  };

  it('records who created, changed and deleted a user, changed permissions, ended a session and changed settings', async () => {
    const email = `audited-${unique()}@audit.test`;
    const userId = (await ok(admin.gql('mutation($input: CreateUserInput!) { createUser(input: $input) { id } }', { input: { email, password: PASSWORD } }))).createUser.id;
    const user = await server.login(email, PASSWORD);
    await ok(user.gql('mutation { logout }'));
    const grant = { subjectType: 'USER', subject: userId, action: 'settings.write', resource: 'de.audit.*' };
    await ok(admin.gql('mutation($input: PermissionInput!) { grantPermission(input: $input) }', { input: grant }));
    await ok(admin.gql('mutation($input: PermissionInput!) { revokePermission(input: $input) }', { input: grant }));
    await ok(admin.gql('mutation($id: ID!) { updateUser(id: $id, input: { role: ADMIN }) { id } }', { id: userId }));
    const appName = `de.audit.app-${unique()}`;
    await ok(admin.gql('mutation($input: RegisterAppInput!) { registerApp(input: $input) { id } }', { input: { name: appName, version: '1.0.0' } }));
    await ok(admin.gql('mutation($a: String!) { updateAppSettings(appName: $a, values: { theme: "dark" }) { version } }', { a: appName }));
    await ok(admin.gql('mutation($id: ID!) { deleteUser(id: $id) }', { id: userId }));

    const [created, createdEntry] = await waitForEntryOf('user.created', (d) => d.userId === userId);
    expect(createdEntry).toEqual({
      id: created.id,
      type: 'user.created',
      actor: adminId,
      target: `user:${userId}`,
      summary: `Created user ${email}`,
      details: { userId, email, role: 'USER', createdBy: adminId },
      correlationId: created.correlationId,
      occurredAt: created.time,
    });
    expect((await waitForEntryOf('session.revoked', (d) => d.userId === userId && d.reason === 'logout'))[1]).toMatchObject({
      actor: userId,
      summary: expect.stringMatching(/^Ended session .+ of user .+ \(logout\)$/),
    });
    expect((await waitForEntryOf('permission.invalidate', (d) => d.grant?.subject === userId && d.change === 'granted'))[1]).toMatchObject({
      actor: adminId,
      target: `user:${userId}`,
      summary: `Granted settings.write on de.audit.* to user ${userId}`,
    });
    expect((await waitForEntryOf('permission.invalidate', (d) => d.grant?.subject === userId && d.change === 'revoked'))[1]).toMatchObject({
      summary: `Revoked settings.write on de.audit.* from user ${userId}`,
    });
    expect((await waitForEntryOf('user.updated', (d) => d.userId === userId))[1]).toMatchObject({ actor: adminId, summary: `Changed role of user ${userId}` });
    expect((await waitForEntryOf('settings.updated', (d) => d.appName === appName))[1]).toMatchObject({
      actor: adminId,
      target: `app:${appName}`,
      summary: `Changed settings theme of ${appName} (version 2)`,
    });
    expect((await waitForEntryOf('user.deleted', (d) => d.userId === userId))[1]).toMatchObject({ actor: adminId, summary: `Deleted user ${userId}` });
  });

  it('keeps only the sensitive events, newest first, as many as asked', async () => {
    const appName = `de.audit.quiet-${unique()}`;
    await ok(admin.gql('mutation($input: RegisterAppInput!) { registerApp(input: $input) { id } }', { input: { name: appName, version: '1.0.0' } }));
    await waitFor(() => eventOf('app.registered', (d) => d.appName === appName) !== undefined, 'app.registered');
    const email = `later-${unique()}@audit.test`;
    await ok(admin.gql('mutation($input: CreateUserInput!) { createUser(input: $input) { id } }', { input: { email, password: PASSWORD } }));
    const [latest] = await waitForEntryOf('user.created', (d) => d.email === email);

    const all = await entries();
    expect(all.map((entry) => entry.id)).not.toContain(eventOf('app.registered', (d) => d.appName === appName)!.id);
    const quietTypes = ['app.registered', 'app.installed', 'session.created', 'session.expired', 'settings.registered', 'settings.validation_failed'];
    expect(all.filter((entry) => quietTypes.includes(entry.type))).toEqual([]);
    const newest = await entries(3);
    expect(newest).toHaveLength(3);
    expect(newest[0].id).toBe(latest.id);
    expect(newest).toEqual(all.slice(0, 3));
    const tooMany = await admin.gql('{ auditLog(limit: 501) { id } }');
    expect(tooMany.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('records an event once, even when the broker delivers it again', async () => {
    const email = `twice-${unique()}@audit.test`;
    const userId = (await ok(admin.gql('mutation($input: CreateUserInput!) { createUser(input: $input) { id } }', { input: { email, password: PASSWORD } }))).createUser.id;
    const [created] = await waitForEntryOf('user.created', (d) => d.userId === userId);

    // The same envelope again, twice, through the broker: a redelivery as the audit group sees it.
    await server.bus.publishEnvelopes([created, created]);
    await waitFor(() => server.events.filter((e) => e.id === created.id).length === 3, 'both copies to arrive');
    const later = await ok(admin.gql('mutation($input: CreateUserInput!) { createUser(input: $input) { id } }', { input: { email: `after-${unique()}@audit.test`, password: PASSWORD } }));
    await waitForEntryOf('user.created', (d) => d.userId === later.createUser.id);

    expect((await sql.query('SELECT count(*)::int AS n FROM audit_log WHERE event_id = $1', [created.id])).rows[0].n).toBe(1);
  });
});
