import { randomBytes } from 'node:crypto';
import { EventTransport } from '../../src/event-bus/event-transport';
import { InMemoryTransport } from '../../src/event-bus/transports/in-memory.transport';
import type { HealthReport } from '../../src/health/health.controller';
import { RunningServer } from '../support/app-server-harness';
import { waitFor } from '../support/wait-for';

/**
 * GET /health as a load balancer reads it: the status code alone must say
 * whether the instance is consuming. No services needed: in-memory bus, embedded
 * database in memory; the bus connection is cut with the transport's fault injection.
 */
describe('GET /health', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await RunningServer.start({ transport: 'memory', namespace: `health-${randomBytes(3).toString('hex')}`, database: { embeddedFile: ':memory:' } });
  });

  afterAll(() => server?.close());

  const health = async () => {
    const response = await fetch(`${server.url}/health`);
    return { status: response.status, report: (await response.json()) as HealthReport };
  };

  it('answers 200 "ok" while the bus is consuming, 503 "degraded" while its connection is lost, and 200 again once it is back', async () => {
    expect(await health()).toMatchObject({ status: 200, report: { status: 'ok', bus: { consuming: true } } });

    const transport = server.app.get(EventTransport);
    expect(transport).toBeInstanceOf(InMemoryTransport);
    (transport as InMemoryTransport).simulateConnectionLoss();
    // Reconnection waits at least 500 ms (the first backoff step), so the lost state is there to be seen.
    expect(await health()).toMatchObject({ status: 503, report: { status: 'degraded', bus: { consuming: false } } });

    await waitFor(async () => (await health()).status === 200, 'the bus to reconnect and /health to answer 200');
    expect((await health()).report).toMatchObject({ status: 'ok', bus: { consuming: true } });
  });
});
