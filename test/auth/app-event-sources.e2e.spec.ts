import { randomBytes, randomUUID } from 'node:crypto';
import { AppInstalledPayload } from '../../src/apps/app.events';
import { GraphqlClient, RunningServer } from '../support/app-server-harness';
import { createTestDatabase, TestDatabase } from '../support/database';
import { describeWith } from '../support/services';
import { waitFor } from '../support/wait-for';

const unique = () => randomBytes(4).toString('hex');
const installed = (appName: string): AppInstalledPayload => ({ appId: randomUUID(), appName, version: '1.0.0', installedAt: new Date().toISOString() });

/**
 * Events that name a source app, through AppServer's own authorizer: handled
 * only while that app holds `events.publish` on the event type, otherwise
 * dead-lettered with the reason. On PostgreSQL (grants) and RabbitMQ.
 */
describeWith(['postgres', 'rabbitmq'], 'events published by apps (PostgreSQL + RabbitMQ)', () => {
  let database: TestDatabase;
  let server: RunningServer;
  let admin: GraphqlClient;

  beforeAll(async () => {
    database = await createTestDatabase();
    server = await RunningServer.start({ transport: 'rabbitmq', namespace: `sources-${unique()}`, databaseUrl: database.url });
    admin = await server.loginAsAdmin();
  });

  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  const setGrant = async (mutation: 'grantPermission' | 'revokePermission', subject: string, resource: string) => {
    const response = await admin.gql(`mutation($input: PermissionInput!) { ${mutation}(input: $input) }`, {
      input: { subjectType: 'APP', subject, action: 'events.publish', resource },
    });
    expect(response.data).toEqual({ [mutation]: true });
  };

  it('handles what an app may publish, and dead-letters the rest with the reason, from the next event after a revocation on', async () => {
    const handled: string[] = [];
    const subscription = await server.bus.subscribe('app.*', (event) => void handled.push(event.id), { group: `source-check-${unique()}` });
    const trustedApp = `de.source.trusted-${unique()}`;
    await setGrant('grantPermission', trustedApp, 'app.install*');

    const trusted = await server.bus.publish('app.installed', installed(trustedApp), { sourceAppName: trustedApp });
    const rogue = await server.bus.publish('app.installed', installed('de.source.rogue'), { sourceAppName: 'de.source.rogue' });
    const ownServer = await server.bus.publish('app.installed', installed('de.source.internal'));
    await waitFor(() => handled.includes(trusted.id) && handled.includes(ownServer.id), 'the allowed events');
    await waitFor(async () => (await server.bus.deadLetters(subscription)).length === 1, 'the dead letter');

    const [letter] = await server.bus.deadLetters(subscription);
    expect(letter).toMatchObject({
      failureKind: 'unauthorized-source',
      error: 'app "de.source.rogue" does not hold permission events.publish on "app.installed"',
      attempts: 0,
    });
    expect(letter.envelope?.id).toBe(rogue.id);

    await setGrant('revokePermission', trustedApp, 'app.install*');
    const afterRevocation = await server.bus.publish('app.installed', installed(trustedApp), { sourceAppName: trustedApp });
    await waitFor(async () => (await server.bus.deadLetters(subscription)).length === 2, 'the second dead letter');
    expect((await server.bus.deadLetters(subscription)).map((l) => l.envelope?.id)).toEqual([rogue.id, afterRevocation.id]);
    expect(handled).not.toContain(rogue.id);
    expect(handled).not.toContain(afterRevocation.id);
  });
});
