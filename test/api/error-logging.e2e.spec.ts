import { randomBytes } from 'node:crypto';
import { NotFoundException } from '@nestjs/common';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { AppsService } from '../../src/apps/apps.service';
import { RunningServer } from '../support/app-server-harness';
import { CapturingLogger } from '../support/capturing-logger';
import { waitFor } from '../support/wait-for';

/**
 * What the server log says when clients make mistakes: nothing at ERROR. An
 * operator paged on error lines must not be woken by a flood of anonymous or
 * malformed calls; each still gets its precise answer. A fault is logged once,
 * with its stack. No services needed.
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
  // Each case injects its own fault into the same service.
  afterEach(() => jest.restoreAllMocks());

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

  it("answers Nest's own HTTP exceptions from a module with the contract's code, and logs nothing", async () => {
    const admin = await server.loginAsAdmin();
    // As a module might write it, instead of throwing the AppServer NotFoundError.
    jest.spyOn(server.app.get(AppsService), 'findAll').mockRejectedValueOnce(new NotFoundException('No apps in this tenant'));
    const before = errorLines().length;

    const answer = await admin.gql('{ apps { name } }');

    expect(answer.errors).toEqual([expect.objectContaining({ message: 'No apps in this tenant', path: ['apps'], extensions: { code: 'NOT_FOUND' } })]);
    expect(errorLines().slice(before)).toEqual([]);
  });

  it('logs a fault once, with its stack, and tells the client only that it was internal', async () => {
    const admin = await server.loginAsAdmin();
    // The fault is injected: what is under test is how the server reports it, not where it came from.
    const fault = new Error('the disk is on fire');
    const findAll = jest.spyOn(server.app.get(AppsService), 'findAll').mockRejectedValueOnce(fault);
    const before = errorLines().length;

    const answer = await admin.gql('{ apps { name } }');

    expect(findAll).toHaveBeenCalledTimes(1);
    expect(answer.errors).toEqual([expect.objectContaining({ message: 'Internal server error', path: ['apps'], extensions: { code: 'INTERNAL_SERVER_ERROR' } })]);
    const logged = errorLines().slice(before);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain('Unexpected error at apps: Error: the disk is on fire');
    // Its stack: where the fault was raised (here, this file).
    expect(logged[0]).toContain('error-logging.e2e.spec.ts');
  });

  it('logs the fault of an operation the client cancelled over graphql-ws, though no answer is sent', async () => {
    const admin = await server.loginAsAdmin();
    const fault = new Error('failed after the client left');
    let failLoad: (() => void) | undefined;
    jest.spyOn(server.app.get(AppsService), 'findAll').mockImplementationOnce(() => new Promise((_, reject) => (failLoad = () => reject(fault))));
    const socket = createClient({
      url: `${server.url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${admin.token}` },
      retryAttempts: 0,
      lazy: false,
    });
    try {
      const received: unknown[] = [];
      const cancel = socket.subscribe({ query: '{ apps { name } }' }, { next: (value) => received.push(value), error: (error) => received.push(error), complete: () => undefined });
      await waitFor(() => failLoad !== undefined, 'the query to reach the service');
      const before = errorLines().length;

      cancel();
      // A second operation's answer on the same socket means the server has handled the cancel, which it received first.
      await new Promise((resolve, reject) => socket.subscribe({ query: '{ __typename }' }, { next: () => undefined, error: reject, complete: () => resolve(undefined) }));
      failLoad!();

      await waitFor(() => errorLines().length > before, 'the fault to be logged', { describe: () => `${errorLines().length - before} new error lines` });
      expect(errorLines().slice(before)).toEqual([expect.stringContaining('Unexpected error at apps: Error: failed after the client left')]);
      expect(received).toEqual([]);
    } finally {
      await socket.dispose();
    }
  });
});
