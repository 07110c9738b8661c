/**
 * npm run bench:subscriptions — `appStateChanged` fan-out over graphql-ws.
 *
 * For each N in BENCH_CLIENTS (default 1000,5000): one AppServer in a child
 * process (a throwaway PostgreSQL database, the in-memory bus, no Redis) and N
 * graphql-ws clients in this process, all subscribed without a filter, all on
 * one admin session. One app is registered, then BENCH_ROUNDS (default 20)
 * rounds alternate installApp / uninstallApp over HTTP. Per client and round:
 * latency = the moment the client got the event − the moment the mutation's
 * HTTP response arrived (both on this process's clock; negative when the
 * event beats the response). Memory per idle connection = (server VmRSS with
 * N idle subscribed clients − VmRSS before) / N, both after a full GC in the
 * server (it runs with --expose-gc and scripts/bench/memory-probe.ts). Server
 * CPU = utime + stime from /proc/<pid>/stat over the rounds.
 *
 * The same run measures the peer, a bare graphql-ws server publishing through
 * an in-memory PubSub (scripts/bench/subscription-peer-server.ts), with the same
 * N clients and the same measurement; each (server, N) gets a fresh process.
 *
 * Clients connect in batches of BENCH_CONNECT_BATCH (default 200), each batch
 * waiting for its connection acks, so the servers' accept queues are not flooded.
 *
 * BENCH_CPU_PROF=<dir>: each server records a V8 CPU profile over the rounds and
 * writes it to <dir>/<server>-<N>.cpuprofile (open it in Chrome DevTools or
 * speedscope). Profiling slows the servers: its figures are not the bench's.
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { compileServers, createBenchDatabase, graphql } from './server-process';
import { BenchServer, freePort, MemoryReport } from './subscription-processes';
import { formatMs, formatRatio, formatTable, median, now, sleep, summarize } from './stats';

const CLIENT_COUNTS = (process.env.BENCH_CLIENTS ?? '1000,5000')
  .split(',')
  .map((value) => Number(value.trim()))
  .filter((value) => Number.isInteger(value) && value > 0);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const CONNECT_BATCH = Number(process.env.BENCH_CONNECT_BATCH ?? 200);
/** How long every client gets to receive one event before the rest count as missed. */
const ROUND_TIMEOUT_MS = 10_000;
/** Idle time before memory is read (after the barrier event). */
const SETTLE_MS = 2_000;
const WARM_UP_CLIENTS = 20;
const CPU_PROFILE_DIR = process.env.BENCH_CPU_PROF;

const ADMIN = { email: 'bench-admin@appserver.test', password: 'bench-admin-password' };
const PEER_TOKEN = 'bench-peer-token';
const MEASURED_APP = 'de.bench.subscriptions';
const WARM_UP_APP = 'de.bench.warm-up';
const SUBSCRIPTION = 'subscription { appStateChanged { id name state version installedAt } }';

const TARGET_P99_MS = 250;
const TARGET_PEER_RATIO = 1.5;
const TARGET_BYTES_PER_CONNECTION = 30 * 1024;

type State = 'REGISTERED' | 'INSTALLED' | 'UNINSTALLED';

/** One server under test, as the bench drives it. */
interface Target {
  readonly kind: 'AppServer' | 'bare graphql-ws peer';
  readonly server: BenchServer;
  readonly wsUrl: string;
  readonly authorization: string;
  /** Makes app `name` go to `state` (AppServer: the mutation; peer: POST /publish); resolves when the response has arrived. */
  step(name: string, state: State): Promise<void>;
  close(): Promise<void>;
}

interface ScenarioResult {
  readonly kind: Target['kind'];
  readonly clients: number;
  readonly connectSeconds: number;
  readonly rssPerConnection: number;
  readonly heapPerConnection: number;
  readonly latencies: number[];
  readonly fromSend: number[];
  readonly spreads: number[];
  /** Per round, the first client's latency: how long before the fan-out starts (for AppServer: outbox relay and bus). */
  readonly firsts: number[];
  /** Per round, GET /health sent right after the change's response: its round trip. */
  readonly healthDuringFanOut: number[];
  readonly missed: number;
  readonly serverCpuMs: number;
  readonly roundsWallMs: number;
  readonly benchCpuMs: number;
  readonly deliveries: number;
  readonly clientErrors: string[];
  readonly serverProblems: string[];
}

// ---------------------------------------------------------------------------------------------
// Clients

/** N graphql-ws clients of one server, each with one subscription, and what each has received. */
class ClientPool {
  private readonly clients: Client[] = [];
  /** When each client got the expected event of the current round (NaN: not yet). */
  private receivedAt = new Float64Array(0);
  private seen = new Uint8Array(0);
  private seenCount = 0;
  private expected?: { name: string; state: State };
  private receivedCount = 0;
  private onAllReceived?: () => void;
  private onAllSeen?: () => void;
  /** closeAll() is under way: closes and completions are ours, not errors. */
  private disposing = false;
  readonly errors: string[] = [];

  constructor(
    private readonly url: string,
    private readonly authorization: string,
  ) {}

  get size(): number {
    return this.clients.length;
  }

  /** Opens `count` more clients, `batch` at a time; each batch waits for its connection acks. */
  async open(count: number, batch: number): Promise<void> {
    const start = this.clients.length;
    this.grow(start + count);
    for (let first = start; first < start + count; first += batch) {
      const last = Math.min(start + count, first + batch);
      const acks: Promise<void>[] = [];
      for (let index = first; index < last; index++) acks.push(this.openOne(index));
      await Promise.all(acks);
    }
  }

  private grow(size: number): void {
    const receivedAt = new Float64Array(size).fill(Number.NaN);
    receivedAt.set(this.receivedAt);
    this.receivedAt = receivedAt;
    const seen = new Uint8Array(size);
    seen.set(this.seen);
    this.seen = seen;
  }

  private openOne(index: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let connected = false;
      const timer = setTimeout(() => reject(new Error(`client ${index}: no connection ack within 30 s`)), 30_000);
      const client = createClient({
        url: this.url,
        webSocketImpl: WebSocket,
        lazy: false,
        retryAttempts: 0,
        connectionParams: { authorization: this.authorization },
        onNonLazyError: (error) => this.error(index, `connection: ${describe(error)}`),
        on: {
          connected: () => {
            connected = true;
            clearTimeout(timer);
            resolve();
          },
          closed: (event) => {
            if (connected) {
              if (!this.disposing) this.error(index, `closed while subscribed: ${describe(event)}`);
              return;
            }
            clearTimeout(timer);
            reject(new Error(`client ${index}: closed before the ack: ${describe(event)}`));
          },
        },
      });
      this.clients[index] = client;
      client.subscribe<{ appStateChanged: { name: string; state: State } }>(
        { query: SUBSCRIPTION },
        {
          next: (result) => this.received(index, result.data?.appStateChanged, result.errors),
          error: (error) => this.error(index, `subscription: ${describe(error)}`),
          complete: () => {
            if (!this.disposing) this.error(index, 'subscription completed by the server');
          },
        },
      );
    });
  }

  private received(index: number, app: { name: string; state: State } | undefined, errors: unknown): void {
    const at = now();
    if (!app) {
      this.error(index, `event without data: ${JSON.stringify(errors)}`);
      return;
    }
    if (!this.seen[index]) {
      this.seen[index] = 1;
      if (++this.seenCount === this.clients.length) this.onAllSeen?.();
    }
    const expected = this.expected;
    if (expected && app.name === expected.name && app.state === expected.state && Number.isNaN(this.receivedAt[index])) {
      this.receivedAt[index] = at;
      if (++this.receivedCount === this.clients.length) this.onAllReceived?.();
    }
  }

  private error(index: number, message: string): void {
    if (this.errors.length < 1000) this.errors.push(`client ${index}: ${message}`);
  }

  /** Resolves once every client has received at least one event since the last call (or after `timeoutMs`); returns how many have. */
  async untilAllSeen(trigger: () => Promise<void>, timeoutMs: number): Promise<number> {
    const all = new Promise<void>((resolve) => (this.onAllSeen = resolve));
    if (this.seenCount < this.clients.length) {
      await trigger();
      await Promise.race([all, sleep(timeoutMs)]);
    }
    this.onAllSeen = undefined;
    return this.seenCount;
  }

  resetSeen(): void {
    this.seen.fill(0);
    this.seenCount = 0;
  }

  /** Expects `state` of `name` from every client; runs `trigger`; resolves with each client's receive time (NaN: missed). */
  async round(name: string, state: State, trigger: () => Promise<void>): Promise<Float64Array> {
    this.receivedAt.fill(Number.NaN);
    this.receivedCount = 0;
    this.expected = { name, state };
    const all = new Promise<void>((resolve) => (this.onAllReceived = resolve));
    await trigger();
    await Promise.race([all, sleep(ROUND_TIMEOUT_MS)]);
    this.expected = undefined;
    this.onAllReceived = undefined;
    return Float64Array.from(this.receivedAt);
  }

  async closeAll(): Promise<void> {
    this.disposing = true;
    for (let first = 0; first < this.clients.length; first += 500) {
      await Promise.all(this.clients.slice(first, first + 500).map((client) => client.dispose()));
    }
    this.clients.length = 0;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (error && typeof error === 'object' && 'code' in error) {
    const event = error as { code: number; reason?: string };
    return `close ${event.code}${event.reason ? ` ${event.reason}` : ''}`;
  }
  return JSON.stringify(error);
}

// ---------------------------------------------------------------------------------------------
// Servers

async function startAppServer(): Promise<Target> {
  const database = await createBenchDatabase();
  const port = await freePort();
  let server: BenchServer;
  try {
    server = await BenchServer.start(
      'AppServer',
      'src/main.ts',
      {
        APPSERVER_PORT: String(port),
        APPSERVER_DATABASE_URL: database.url,
        APPSERVER_ADMIN_EMAIL: ADMIN.email,
        APPSERVER_ADMIN_PASSWORD: ADMIN.password,
      },
      port,
    );
  } catch (error) {
    await database.drop();
    throw error;
  }
  const login = await graphql(server.url, 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }', {
    e: ADMIN.email,
    p: ADMIN.password,
  });
  const token = login.login.token as string;
  const mutation = {
    INSTALLED: 'mutation($n: String!) { installApp(name: $n) { id } }',
    UNINSTALLED: 'mutation($n: String!) { uninstallApp(name: $n) { id } }',
  };
  return {
    kind: 'AppServer',
    server,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    authorization: `Bearer ${token}`,
    step: async (name, state) => {
      if (state === 'REGISTERED') {
        await graphql(server.url, 'mutation($i: RegisterAppInput!) { registerApp(input: $i) { id } }', { i: { name, version: '1.0.0' } }, token);
      } else {
        await graphql(server.url, mutation[state], { n: name }, token);
      }
    },
    close: async () => {
      await server.stop();
      await database.drop();
    },
  };
}

async function startPeer(): Promise<Target> {
  const port = await freePort();
  const server = await BenchServer.start(
    'peer',
    'scripts/bench/subscription-peer-server.ts',
    { PEER_PORT: String(port), PEER_TOKEN, NODE_ENV: 'production' },
    port,
  );
  return {
    kind: 'bare graphql-ws peer',
    server,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    authorization: `Bearer ${PEER_TOKEN}`,
    step: async (name, state) => {
      const response = await fetch(`${server.url}/publish?name=${encodeURIComponent(name)}&state=${state}`, { method: 'POST' });
      if (!response.ok) throw new Error(`peer: POST /publish answered ${response.status}`);
      await response.arrayBuffer();
    },
    close: () => server.stop(),
  };
}

// ---------------------------------------------------------------------------------------------
// One scenario: one fresh server, N clients

async function runScenario(start: () => Promise<Target>, clients: number): Promise<ScenarioResult> {
  const target = await start();
  const label = `${target.kind}, ${clients.toLocaleString('en-US')} clients`;
  const log = (message: string) => process.stdout.write(`  [${label}] ${message}\n`);
  let pool: ClientPool | undefined;
  try {
    // Warm-up: the code paths of connect, subscribe, deliver and close run a few times before the baseline.
    await target.step(WARM_UP_APP, 'REGISTERED');
    const warmUp = new ClientPool(target.wsUrl, target.authorization);
    await warmUp.open(WARM_UP_CLIENTS, WARM_UP_CLIENTS);
    await warmUp.untilAllSeen(() => target.step(WARM_UP_APP, 'INSTALLED'), 5_000);
    for (let i = 0; i < 6; i++) {
      const times = await warmUp.round(WARM_UP_APP, i % 2 ? 'INSTALLED' : 'UNINSTALLED', () =>
        target.step(WARM_UP_APP, i % 2 ? 'INSTALLED' : 'UNINSTALLED'),
      );
      if (times.some(Number.isNaN)) throw new Error(`${label}: warm-up event missed: ${warmUp.errors.slice(0, 3).join('; ')}`);
    }
    await warmUp.closeAll();
    await sleep(SETTLE_MS);
    const before = await memory(target.server);

    // N idle, subscribed clients.
    pool = new ClientPool(target.wsUrl, target.authorization);
    const connectStart = now();
    await pool.open(clients, CONNECT_BATCH);
    const connectSeconds = (now() - connectStart) / 1000;
    // Barrier: the app's registration must reach every client (a subscription is live once its first event arrives).
    let seen = await pool.untilAllSeen(() => target.step(MEASURED_APP, 'REGISTERED'), 5_000);
    for (let attempt = 1; seen < clients && attempt <= 5; attempt++) {
      seen = await pool.untilAllSeen(() => target.step(`de.bench.barrier-${attempt}`, 'REGISTERED'), 5_000);
    }
    if (seen < clients) throw new Error(`${label}: only ${seen} of ${clients} subscriptions became live: ${pool.errors.slice(0, 5).join('; ')}`);
    log(`${clients} clients connected and subscribed in ${connectSeconds.toFixed(1)} s`);
    await sleep(SETTLE_MS);
    const after = await memory(target.server);
    const mb = (bytes: number) => (bytes / 1048576).toFixed(1);
    log(
      `server memory idle → with ${clients} clients: RSS ${mb(before.rss)} → ${mb(after.rss)} MB, heap used ${mb(before.heapUsed)} → ` +
        `${mb(after.heapUsed)} MB (heap total ${mb(before.heapTotal)} → ${mb(after.heapTotal)}), external ${mb(before.external)} → ${mb(after.external)} MB`,
    );

    // Rounds.
    const latencies: number[] = [];
    const fromSend: number[] = [];
    const spreads: number[] = [];
    const firsts: number[] = [];
    const healthDuringFanOut: number[] = [];
    let missed = 0;
    if (CPU_PROFILE_DIR) await target.server.cpuProfile('start');
    const cpuBefore = target.server.cpuMs();
    const benchCpuBefore = process.cpuUsage();
    const roundsStart = now();
    for (let round = 0; round < ROUNDS; round++) {
      const state: State = round % 2 === 0 ? 'INSTALLED' : 'UNINSTALLED';
      let sentAt = 0;
      let respondedAt = 0;
      let healthProbe: Promise<number> | undefined;
      const received = await pool.round(MEASURED_APP, state, async () => {
        sentAt = now();
        await target.step(MEASURED_APP, state);
        respondedAt = now();
        // How long the server takes to answer anything else while it fans out (a blocked event loop shows here).
        healthProbe = timeHealth(target.server.url);
      });
      if (healthProbe) healthDuringFanOut.push(await healthProbe);
      let first = Infinity;
      let last = -Infinity;
      for (const at of received) {
        if (Number.isNaN(at)) {
          missed++;
          continue;
        }
        latencies.push(at - respondedAt);
        fromSend.push(at - sentAt);
        first = Math.min(first, at);
        last = Math.max(last, at);
      }
      if (Number.isFinite(first)) {
        spreads.push(last - first);
        firsts.push(first - respondedAt);
      }
      await sleep(50);
    }
    const roundsWallMs = now() - roundsStart;
    const serverCpuMs = target.server.cpuMs() - cpuBefore;
    const benchCpu = process.cpuUsage(benchCpuBefore);
    if (CPU_PROFILE_DIR) {
      const path = join(CPU_PROFILE_DIR, `${target.kind === 'AppServer' ? 'appserver' : 'peer'}-${clients}.cpuprofile`);
      await target.server.cpuProfile('stop', path);
      log(`CPU profile of the rounds: ${path}`);
    }
    log(`${ROUNDS} rounds in ${(roundsWallMs / 1000).toFixed(1)} s, ${missed} deliveries missed`);

    return {
      kind: target.kind,
      clients,
      connectSeconds,
      rssPerConnection: (after.rss - before.rss) / clients,
      heapPerConnection: (after.heapUsed + after.external - (before.heapUsed + before.external)) / clients,
      latencies,
      fromSend,
      spreads,
      firsts,
      healthDuringFanOut,
      missed,
      serverCpuMs,
      roundsWallMs,
      benchCpuMs: (benchCpu.user + benchCpu.system) / 1000,
      deliveries: latencies.length,
      clientErrors: [...pool.errors],
      serverProblems: problemLines(target.server.logs),
    };
  } catch (error) {
    const state = target.server.running ? 'still running' : 'exited';
    throw new Error(`${label}: ${(error as Error).message}\n(server ${state}; its last output:)\n${target.server.logs.slice(-4000)}`);
  } finally {
    await pool?.closeAll().catch(() => undefined);
    await target.close();
  }
}

async function timeHealth(url: string): Promise<number> {
  const start = now();
  const response = await fetch(`${url}/health`);
  await response.arrayBuffer();
  return now() - start;
}

/** The server's memory after a full GC: RSS from /proc, the heap from the probe. */
async function memory(server: BenchServer): Promise<MemoryReport> {
  const report = await server.collectAndMeasure();
  await sleep(200);
  return { ...report, rss: server.rssBytes() };
}

/** Warnings and errors a server printed (Nest's logger marks them WARN / ERROR; anything else on stderr counts too). */
function problemLines(logs: string): string[] {
  const plain = logs.replace(/\x1b\[[0-9;]*m/g, '');
  return plain.split('\n').filter((line) => /\b(WARN|ERROR|Error|warning)\b/.test(line) || /^\s+at /.test(line));
}

// ---------------------------------------------------------------------------------------------
// Report

const kb = (bytes: number) => (Number.isFinite(bytes) ? (bytes / 1024).toFixed(1) : 'n/a');
const verdict = (met: boolean) => (met ? 'met' : 'NOT MET');

/** graphql-ws and ws as AppServer runs them (its @nestjs/graphql copies), which the peer loads too. */
function serverLibraries(): string {
  const from = { paths: [dirname(require.resolve('@nestjs/graphql/package.json')), __dirname] };
  const version = (name: string) => (require(require.resolve(`${name}/package.json`, from)) as { version: string }).version;
  try {
    return `graphql-ws ${version('graphql-ws')}, ws ${version('ws')}`;
  } catch {
    return 'graphql-ws/ws versions unknown';
  }
}

function openFileLimit(): string {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const [soft, hard] = line!.replace('Max open files', '').trim().split(/\s+/);
    return `${soft} (hard ${hard})`;
  } catch {
    return 'unknown';
  }
}

function report(results: ScenarioResult[]): void {
  const rows = results.map((r) => {
    const latency = summarize(r.latencies);
    const fromSend = summarize(r.fromSend);
    return [
      r.kind,
      r.clients.toLocaleString('en-US'),
      r.connectSeconds.toFixed(1),
      kb(r.rssPerConnection),
      kb(r.heapPerConnection),
      formatMs(latency.p50, 1),
      formatMs(latency.p99, 1),
      formatMs(latency.max, 1),
      formatMs(fromSend.p99, 1),
      formatMs(median(r.firsts), 1),
      formatMs(median(r.spreads), 1),
      formatMs(Math.max(...r.healthDuringFanOut), 1),
      String(r.missed),
      formatMs(r.serverCpuMs / ROUNDS, 0),
      formatMs((r.serverCpuMs * 1000) / Math.max(1, r.deliveries), 1),
      `${Math.round((r.serverCpuMs / r.roundsWallMs) * 100)}%`,
      `${Math.round((r.benchCpuMs / r.roundsWallMs) * 100)}%`,
    ];
  });
  process.stdout.write(
    '\n' +
      formatTable(
        [
          'server',
          'clients',
          'connect s',
          'RSS KB/conn',
          'heap KB/conn',
          'p50 ms',
          'p99 ms',
          'max ms',
          'p99 from send',
          'first ms',
          'spread ms',
          '/health max ms',
          'missed',
          'srv CPU ms/round',
          'srv CPU µs/delivery',
          'srv CPU',
          'bench CPU',
        ],
        rows,
      ) +
      '\n',
  );
  process.stdout.write(
    '\nLatency: client received the event − the HTTP response of the change arrived (this process\'s clock), over all clients × rounds.\n' +
      '"p99 from send": the same from the moment the request was sent. "first": the first client\'s latency, "spread": first to last client (medians over rounds).\n' +
      '"/health max": the slowest GET /health sent right after a change\'s response, while the server fans out (over the rounds).\n' +
      'Memory: (VmRSS with N idle subscribed clients − VmRSS before) / N, each after a full GC; heap = heapUsed + external.\n' +
      'CPU: server utime+stime over the rounds (per round, per delivered event, and as a share of one core); bench = this process (the clients).\n',
  );

  const ratioRows: string[][] = [];
  for (const clients of CLIENT_COUNTS) {
    const app = results.find((r) => r.kind === 'AppServer' && r.clients === clients);
    const peer = results.find((r) => r.kind !== 'AppServer' && r.clients === clients);
    if (!app || !peer) continue;
    const appP99 = summarize(app.latencies).p99;
    const peerP99 = summarize(peer.latencies).p99;
    ratioRows.push([
      clients.toLocaleString('en-US'),
      formatMs(appP99, 1),
      formatMs(peerP99, 1),
      formatRatio(appP99 / peerP99),
      kb(app.rssPerConnection),
      kb(peer.rssPerConnection),
      formatRatio(app.rssPerConnection / peer.rssPerConnection),
      formatRatio(app.serverCpuMs / peer.serverCpuMs),
    ]);
  }
  if (ratioRows.length > 0) {
    process.stdout.write(
      '\nAppServer / bare peer\n' +
        formatTable(['clients', 'p99 AppServer', 'p99 peer', 'p99 ratio', 'KB/conn AppServer', 'KB/conn peer', 'memory ratio', 'CPU ratio'], ratioRows) +
        '\n',
    );
  }

  const largest = Math.max(...CLIENT_COUNTS);
  const app = results.find((r) => r.kind === 'AppServer' && r.clients === largest);
  const peer = results.find((r) => r.kind !== 'AppServer' && r.clients === largest);
  if (app && peer) {
    const appP99 = summarize(app.latencies).p99;
    const ratio = appP99 / summarize(peer.latencies).p99;
    const note = largest === 5000 ? '' : ` (targets are stated for 5,000 clients; evaluated at ${largest.toLocaleString('en-US')})`;
    process.stdout.write(
      `\nTargets at ${largest.toLocaleString('en-US')} clients${note}:\n` +
        `  all clients served, p99 <= ${TARGET_P99_MS} ms: ${formatMs(appP99, 1)} ms, ${app.missed} missed — ${verdict(appP99 <= TARGET_P99_MS && app.missed === 0)}\n` +
        `  within ${TARGET_PEER_RATIO}× of the bare peer (p99): ${formatRatio(ratio)} — ${verdict(ratio <= TARGET_PEER_RATIO)}\n` +
        `  under 30 KB per idle connection: ${kb(app.rssPerConnection)} KB — ${verdict(app.rssPerConnection < TARGET_BYTES_PER_CONNECTION)}\n`,
    );
  }

  for (const r of results) {
    if (r.clientErrors.length === 0 && r.serverProblems.length === 0) continue;
    process.stdout.write(`\n${r.kind}, ${r.clients} clients: ${r.clientErrors.length} client errors, ${r.serverProblems.length} warning/error lines from the server\n`);
    for (const line of [...new Set(r.clientErrors.map((e) => e.replace(/^client \d+: /, '')))].slice(0, 5)) process.stdout.write(`  client: ${line}\n`);
    for (const line of [...new Set(r.serverProblems)].slice(0, 10)) process.stdout.write(`  server: ${line.slice(0, 300)}\n`);
  }
}

async function main(): Promise<void> {
  if (CLIENT_COUNTS.length === 0) throw new Error('BENCH_CLIENTS names no client count (e.g. "1000,5000")');
  const started = now();
  await compileServers();
  process.stdout.write(
    `bench:subscriptions — clients ${CLIENT_COUNTS.join(', ')}; ${ROUNDS} rounds; connect batches of ${CONNECT_BATCH}; ` +
      `open-file limit ${openFileLimit()} (each side holds one descriptor per client); ` +
      `AppServer on PostgreSQL, in-memory bus, L1 cache only; both servers on ${serverLibraries()}; ` +
      `${cpus().length} CPUs, load average ${loadavg()[0].toFixed(2)} at start.\n`,
  );
  const results: ScenarioResult[] = [];
  for (const clients of CLIENT_COUNTS) {
    results.push(await runScenario(startAppServer, clients));
    results.push(await runScenario(startPeer, clients));
  }
  report(results);
  process.stdout.write(`\nTotal ${((now() - started) / 1000).toFixed(0)} s; load average ${loadavg()[0].toFixed(2)} at the end.\n`);
}

main().catch((error: Error) => {
  process.stderr.write(`bench:subscriptions failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
