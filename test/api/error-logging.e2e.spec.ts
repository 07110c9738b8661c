import { randomBytes } from 'node:crypto';
import { RunningServer } from '../support/app-server-harness';
import { CapturingLogger } from '../support/capturing-logger';

/**
 * What the server log says when clients make mistakes: nothing at ERROR. An
 * operator paged on error lines must not be woken by a flood of anonymous or
 * malformed calls; each still gets its precise answer. No services needed.
 */
describe('error logging', () => {
  const logger = new CapturingLogger();
  let server: RunningServer;

  beforeAll(async () => {
    server = await RunningServer.start({
      transport: 'memory',
      namespace: `error-logging-${randomBytes(3).toString('hex')}`,
      database: { embeddedFile: ':memory:' },
      logger,
    });
  });

  afterAll(() => server?.close());

  const errorLines = () => logger.lines.filter((line) => line.startsWith('error ') || line.startsWith('fatal '));

  it('logs no error for the mistakes of clients, and answers each with its code', async () => {
    const admin = await server.loginAsAdmin();
    const member = { email: `member-${randomBytes(3).toString('hex')}@appserver.test`, password: 'member password 1' };
    await admin.gql('mutation($i: CreateUserInput!) { createUser(input: $i) { id } }', { i: member });
    const user = await server.login(member.email, member.password);
    const before = logger.lines.length;
    const answers = [
      await server.anonymous().gql('{ users { id } }'),
      await server.gql('mutation { login(email: "nobody@appserver.test", password: "wrong password") { token } }'),
      await admin.gql('mutation($i: RegisterAppInput!) { registerApp(input: $i) { id } }', { i: { name: 'Not A Valid Name!', version: '1' } }),
      await admin.gql('mutation { installApp(name: "test.no-such-app") { name } }'),
      await user.gql('{ users { id } }'),
    ];

    expect(answers.map((answer) => answer.errors?.[0]?.extensions?.code)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'BAD_USER_INPUT', 'NOT_FOUND', 'FORBIDDEN']);
    // The logger does receive this server's lines (its start-up), so silence here is not a disconnected logger.
    expect(before).toBeGreaterThan(0);
    expect(errorLines()).toEqual([]);
  });
});
