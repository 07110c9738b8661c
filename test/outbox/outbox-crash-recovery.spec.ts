import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { InMemoryBroker } from '../../src/event-bus/transports/in-memory-broker';
import { payloads } from '../event-bus/support/payloads';
import { createDatabaseUnderTest, DATABASE_KINDS, DatabaseUnderTest } from '../support/database';
import { describeWith } from '../support/services';
import { waitFor } from '../support/wait-for';
import { EventRecorder, OutboxApp } from './support/outbox-app';

const ROOT = join(__dirname, '..', '..');
const CHILD = join(__dirname, 'support', 'commit-and-wait-for-kill.ts');

/** Starts the child and resolves with the id of the event it committed (it keeps running). */
async function commitInChild(child: ChildProcess): Promise<string> {
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout! });
  const exited = once(child, 'exit').then(([code, signal]) => {
    throw new Error(`the child exited (${code ?? signal}) before committing:\n${stderr}`);
  });
  const committed = (async () => {
    for await (const line of lines) {
      const message = JSON.parse(line) as { committed?: string };
      if (message.committed) return message.committed;
    }
    throw new Error(`the child closed its output without committing:\n${stderr}`);
  })();
  return Promise.race([committed, exited]);
}

/**
 * A crash between the commit and the publish loses nothing: a real process
 * commits a change with its event and is SIGKILLed before its relay could
 * publish; a new instance on the same database publishes the event.
 */
for (const [kind, services] of DATABASE_KINDS) {
  describeWith(services, `Outbox after a crash (${kind})`, () => {
    let database: DatabaseUnderTest;
    let child: ChildProcess | undefined;
    let app: OutboxApp | undefined;
    const broker = new InMemoryBroker();

    beforeAll(async () => {
      database = await createDatabaseUnderTest(kind);
    });

    afterAll(async () => {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await app?.close();
      broker.dispose();
      await database?.dispose();
    });

    it('publishes, after a restart, the event of a process killed after its commit', async () => {
      const payload = payloads.appRegistered('survives-a-crash');
      child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', CHILD, JSON.stringify({ database, payload })], {
        cwd: ROOT,
        // Only what it needs: no APPSERVER_* variable of the developer's shell leaks into its configuration.
        env: { PATH: process.env.PATH ?? '', TS_NODE_PROJECT: join(ROOT, 'tsconfig.json') },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const eventId = await commitInChild(child);

      child.kill('SIGKILL');
      const [, signal] = await once(child, 'exit');
      expect(signal).toBe('SIGKILL');

      app = await OutboxApp.start({ database, namespace: `crash-${kind}`, broker, outbox: { relayEnabled: false } });
      const recorder = await EventRecorder.on(app.bus);
      const row = await app.row(eventId);
      expect(row).toMatchObject({ eventId, publishedAt: null, attempts: 0 });
      expect(row!.envelope.data).toEqual(payload);

      app.relay.start();

      await waitFor(() => recorder.has(eventId), 'the event committed before the crash to be published');
      expect(recorder.events.find((event) => event.id === eventId)!.data).toEqual(payload);
      await waitFor(async () => (await app!.row(eventId))?.publishedAt != null, 'its row to be marked published');
    });
  });
}
