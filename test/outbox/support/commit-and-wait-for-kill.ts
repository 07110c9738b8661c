/**
 * Child process of outbox-crash-recovery.spec.ts: an AppServer that commits one
 * change with its event, reports it, and then waits to be killed (SIGKILL), its
 * relay disabled so the event is surely still unpublished when it dies.
 *
 * argv[2]: JSON { database, payload }. Prints one line: {"committed": <event id>}.
 */
import 'reflect-metadata';
import { AppRegisteredPayload } from '../../../src/apps/app.events';
import { InMemoryBroker } from '../../../src/event-bus/transports/in-memory-broker';
import { OutboxApp, OutboxAppOptions } from './outbox-app';

interface ChildArguments {
  readonly database: OutboxAppOptions['database'];
  readonly payload: AppRegisteredPayload;
}

async function main(): Promise<void> {
  const { database, payload } = JSON.parse(process.argv[2]) as ChildArguments;
  const app = await OutboxApp.start({
    database,
    namespace: 'crash-child',
    broker: new InMemoryBroker(),
    outbox: { relayEnabled: false },
    instanceId: 'doomed',
  });
  const envelope = await app.unitOfWork.run((tx) => app.outbox.record(tx, 'app.registered', payload));
  process.stdout.write(`${JSON.stringify({ committed: envelope.id })}\n`);
  // Alive until killed: the test, not this process, decides when it dies.
  setInterval(() => undefined, 60_000);
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exit(1);
});
