import { randomBytes, randomUUID } from 'node:crypto';
import { Client, createClient } from 'graphql-ws';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import WebSocket from 'ws';
import { AppStateBridge, CLIENT_BUFFER_CAPACITY } from '../../src/apps/app-state.bridge';
import { EventBus } from '../../src/event-bus/event-bus';
import { EnvelopeFor } from '../../src/event-bus/event-envelope';
import { WebSocketCloseCodes, WebSocketConnections } from '../../src/graphql/websocket-connections';
import { RunningServer } from '../support/app-server-harness';
import { waitFor } from '../support/wait-for';

const SUBSCRIPTION = 'subscription { appStateChanged { id name state version } }';

function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/**
 * The fan-out of one instance, in process (in-memory bus, in-memory embedded
 * database: no services needed): one bus subscription however many clients,
 * everything released on disconnect, and a slow client cut off without
 * slowing anyone else.
 */
describe('appStateChanged fan-out on one instance', () => {
  let server: RunningServer;
  let token: string;
  let bridge: AppStateBridge;
  let connections: WebSocketConnections;
  const wsUrl = () => `${server.url.replace(/^http/, 'ws')}/graphql`;

  beforeAll(async () => {
    server = await RunningServer.start({ transport: 'memory', namespace: `fanout-${randomBytes(3).toString('hex')}`, database: { embeddedFile: ':memory:' } });
    token = (await server.loginAsAdmin()).token!;
    bridge = server.app.get(AppStateBridge);
    connections = server.app.get(WebSocketConnections);
  });

  afterAll(async () => {
    await server?.close();
  });

  const client = (): Client =>
    createClient({
      url: wsUrl(),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
      shouldRetry: () => false,
    });

  /** A synthetic `app.installed`, straight into the bridge: what the bus delivers for each install anywhere. */
  const installed = (name: string, version = '1.0.0'): EnvelopeFor<'app.*'> =>
    server.bus.createEnvelope('app.installed', { appId: randomUUID(), appName: name, version, installedAt: new Date().toISOString() });

  it('releases every listener after 1,000 connect/subscribe/disconnect cycles, with one bus subscription throughout', async () => {
    const busSubscriptions = server.app.get(EventBus).health().subscriptions;
    const baseline = { subscribers: bridge.subscriberCount, sockets: connections.count };
    collectGarbage();
    const heapBefore = process.memoryUsage().heapUsed;

    for (let batch = 0; batch < 20; batch++) {
      const clients = Array.from({ length: 50 }, client);
      const ends = clients.map((c) => new Promise<void>((resolve) => c.subscribe({ query: SUBSCRIPTION }, { next: () => undefined, error: () => resolve(), complete: () => resolve() })));
      await waitFor(() => bridge.subscriberCount === baseline.subscribers + 50, 'the batch to subscribe', {
        describe: () => `${bridge.subscriberCount} subscribers`,
      });
      expect(server.app.get(EventBus).health().subscriptions).toBe(busSubscriptions);
      await Promise.all(clients.map((c) => c.dispose()));
      await Promise.all(ends);
    }

    await waitFor(() => bridge.subscriberCount === baseline.subscribers && connections.count === baseline.sockets, 'every listener to be released', {
      describe: () => `${bridge.subscriberCount} subscribers, ${connections.count} sockets`,
    });
    expect(server.app.get(EventBus).health().subscriptions).toBe(busSubscriptions);
    collectGarbage();
    const grownMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
    // A leaked client holds its socket, buffers and closures (tens of KB); 1,000 of them would be far above this.
    expect(grownMb).toBeLessThan(10);
  });

  it('gives each client the fields it selected and the apps its filter names, when clients with the same query share an execution', async () => {
    const [one, other] = [`de.shared.one-${randomBytes(3).toString('hex')}`, `de.shared.other-${randomBytes(3).toString('hex')}`];
    const byFilter = 'subscription($filter: AppStateFilter) { appStateChanged(filter: $filter) { id name version } }';
    const subscriptions: Array<{ query: string; variables?: Record<string, unknown> }> = [
      { query: 'subscription { appStateChanged { name state } }' },
      { query: 'subscription { appStateChanged { name state } }' },
      { query: 'subscription { appStateChanged { state name installedAt } }' },
      { query: byFilter, variables: { filter: { appNames: [one] } } },
      { query: byFilter, variables: { filter: { appNames: [other] } } },
    ];
    const baseline = bridge.subscriberCount;
    const clients = subscriptions.map(() => client());
    const received = subscriptions.map(() => [] as unknown[]);
    clients.forEach((c, i) =>
      c.subscribe(subscriptions[i], { next: (result) => void received[i].push(result.data ?? result.errors), error: () => undefined, complete: () => undefined }),
    );
    await waitFor(() => bridge.subscriberCount === baseline + subscriptions.length, 'every client to subscribe', {
      describe: () => `${bridge.subscriberCount - baseline} of ${subscriptions.length}`,
    });

    const first = installed(one, '1.0.0');
    const second = installed(other, '2.0.0');
    await bridge.fanOutAppStateChange(first);
    await bridge.fanOutAppStateChange(second);
    await waitFor(() => received.slice(0, 3).every((r) => r.length === 2) && received[3].length === 1 && received[4].length === 1, 'every change', {
      describe: () => JSON.stringify(received.map((r) => r.length)),
    });

    const installedAt = (event: EnvelopeFor<'app.*'>) => ('installedAt' in event.data ? event.data.installedAt : undefined);
    expect(received[0]).toEqual([
      { appStateChanged: { name: one, state: 'INSTALLED' } },
      { appStateChanged: { name: other, state: 'INSTALLED' } },
    ]);
    expect(received[1]).toEqual(received[0]);
    expect(received[2]).toEqual([
      { appStateChanged: { state: 'INSTALLED', name: one, installedAt: installedAt(first) } },
      { appStateChanged: { state: 'INSTALLED', name: other, installedAt: installedAt(second) } },
    ]);
    expect(received[3]).toEqual([{ appStateChanged: { id: first.data.appId, name: one, version: '1.0.0' } }]);
    expect(received[4]).toEqual([{ appStateChanged: { id: second.data.appId, name: other, version: '2.0.0' } }]);
    await Promise.all(clients.map((c) => c.dispose()));
  });

  it('cuts off a client that stops reading, while another client receives every change', async () => {
    const fast = client();
    const fastReceived: string[] = [];
    fast.subscribe<{ appStateChanged: { name: string } }>({ query: SUBSCRIPTION }, {
      next: (result) => void fastReceived.push(result.data!.appStateChanged.name),
      error: () => undefined,
      complete: () => undefined,
    });

    // The slow client speaks the protocol by hand, so it can stop reading its socket.
    const slow = new WebSocket(wsUrl(), 'graphql-transport-ws');
    const closed = new Promise<{ code: number; reason: string }>((resolve) => slow.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    await new Promise((resolve) => slow.once('open', resolve));
    slow.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
    await new Promise((resolve) => slow.once('message', resolve));
    slow.send(JSON.stringify({ type: 'subscribe', id: '1', payload: { query: SUBSCRIPTION } }));
    await waitFor(() => bridge.subscriberCount === 2, 'both subscriptions', { describe: () => `${bridge.subscriberCount}` });
    slow.pause();

    // Large messages fill the socket buffers (on loopback the receiver's may autotune to 32 MB) and then the
    // slow client's bounded buffer overflows: 2,000 × 32 KB is well past both.
    const bulky = `1.0.0-${'x'.repeat(32_000)}`;
    const changes = 2000;
    for (let i = 0; i < changes; i++) {
      await bridge.fanOutAppStateChange(installed(`de.flood.app-${i}`, bulky));
      // Events arrive from the bus between I/O, not in one synchronous burst: let the sockets drain in between.
      await new Promise((resolve) => setImmediate(resolve));
    }

    await waitFor(() => bridge.subscriberCount === 1, 'the slow client to be cut off', { timeoutMs: 30_000 });
    await waitFor(() => fastReceived.length === changes, 'the fast client to receive every change', {
      timeoutMs: 30_000,
      describe: () => `${fastReceived.length} of ${changes}`,
    });
    slow.resume();
    expect(await closed).toEqual({ code: WebSocketCloseCodes.SLOW_CONSUMER, reason: expect.stringMatching(/Too slow/) });
    expect(CLIENT_BUFFER_CAPACITY).toBeLessThan(changes);
    await fast.dispose();
  });
});
