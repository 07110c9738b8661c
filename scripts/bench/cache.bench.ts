/**
 * npm run bench:cache — the two-level cache, measured through real server
 * processes on PostgreSQL, Redis and RabbitMQ:
 *
 * (a) Invalidation propagation: server B holds an app's settings in its L1;
 *     they are updated through server A; the time from A's response to the
 *     first answer of B with the new value (B polled back to back).
 *     BENCH_UPDATES updates (default 1,000). Target: p99 ≤ 20 ms.
 * (b) `appSettings` over HTTP with autocannon, served from L1, from Redis
 *     only (`l1MaxEntries: 0`) and with the cache off (no Redis and
 *     `l1MaxEntries: 0`), and `{ __typename }` on the L1 server as the ceiling;
 *     `{ me { id } }` shows what running one resolver through Nest costs;
 *     a server running every query through graphql-js (`--interpreted-queries`:
 *     none compiled, see CompiledQueryExecutor), with its own trivial query,
 *     is the peer that shows what compiling queries changes.
 *     Targets: L1 ≥ 5× cache off, and ≥ 0.8× the trivial query.
 *     The scenarios take turns, BENCH_ROUNDS rounds (default 5) of
 *     BENCH_SECONDS each (default 4, after a 1 s warm-up), and each figure is
 *     the median of its rounds: a burst of other work on the machine then
 *     costs one round, not a whole scenario. A ratio is the median of the
 *     per-round ratios, each of two scenarios measured seconds apart in the
 *     same round, rather than a ratio of medians that may come from different
 *     rounds. BENCH_CONNECTIONS (default 50). Each scenario also shows the
 *     server's CPU time per request (user + kernel, from /proc): on a machine
 *     whose other tenants take CPU at random, req/s moves with them, and CPU
 *     per request much less.
 *
 * Every connection is its own client: a user of its own, logged in once, with
 * `settings.read` on an app of its own (BENCH_CONNECTIONS users over 50 apps),
 * sending its own token and asking for its own app's settings. So no two
 * connections share a cache key, and single-flight never merges the loads of
 * concurrent requests: with the cache off, every request costs its own session
 * lookup, grant lookup and settings read. Each request costs the server a
 * session and a grant lookup besides the settings, through the same cache —
 * from L1 in the L1 scenario (the session alone for the trivial query), from
 * Redis with L2 only, from PostgreSQL with the cache off; a `{ __typename }`
 * without a session is printed for scale. The servers run with
 * NODE_ENV=production, as the Dockerfile starts them.
 *
 * BENCH_ONLY=propagation or BENCH_ONLY=throughput runs (a) or (b) alone.
 *
 * The servers run in child processes (src/main.ts; scripts/bench/cache-bench-server.ts
 * for the options that have no environment variable); in (b) only the one
 * under load is busy, and with taskset and two CPUs the servers run on CPU 0
 * and autocannon on CPU 1 (see pinToCpu: unpinned, the scheduler at times
 * puts both on one core, and a round's figure halves).
 */
import { randomBytes } from 'node:crypto';
import { cpus as cpuList } from 'node:os';
import autocannon from 'autocannon';
import type { CacheNamespaceStats } from '../../src/cache/cache-stats';
import type { HealthReport } from '../../src/health/health.controller';
import { compileServers, createBenchDatabase, freePort, JsonHttpClient, pinToCpu, processCpuMs, ServerProcess, startServerProcess } from './server-process';
import { formatMs, formatRatio, formatRate, formatTable, median, now, sleep, summarize } from './stats';

const UPDATES = Number(process.env.BENCH_UPDATES ?? 1000);
const BREAKDOWN_UPDATES = Math.min(200, UPDATES);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const APPS = 50;
const ONLY = process.env.BENCH_ONLY ?? '';
if (!['', 'propagation', 'throughput'].includes(ONLY)) throw new Error(`BENCH_ONLY must be "propagation" or "throughput", not "${ONLY}"`);
const REDIS_URL = 'redis://127.0.0.1:6379';
const RABBITMQ_URL = 'amqp://guest:guest@127.0.0.1:5672';
/** B not serving the new value after this long counts as lost: the run fails. */
const PROPAGATION_TIMEOUT_MS = 5_000;

/** The first admin each server creates at boot: sets the benchmark up and makes the updates of (a). */
const ADMIN = { email: 'bench-admin@appserver.test', password: 'bench-admin-password' };

const PROPAGATION_TARGET_P99_MS = 20;
const L1_VS_OFF_TARGET = 5;
const L1_VS_TRIVIAL_TARGET = 0.8;

const run = randomBytes(4).toString('hex');
const appName = (index: number) => `de.bench-cache.app-${index}-${run}`;

const SETTINGS = 'query($a: String!) { appSettings(appName: $a) { appName values version updatedAt } }';
const UPDATE = 'mutation($a: String!, $v: JSON!) { updateAppSettings(appName: $a, values: $v) { version } }';
const body = (query: string, variables?: Record<string, unknown>) => JSON.stringify({ query, variables });

/** A server and the admin session requests are sent with. */
interface Target {
  readonly server: ServerProcess;
  readonly token: string;
}

/** What one autocannon connection sends: its own session, its own app. */
interface Client {
  readonly token: string;
  readonly appName: string;
}

/** Every request the benchmark makes itself, autocannon's aside: the propagation polls above all, timed one by one. */
const http = new JsonHttpClient();

async function gql(url: string, token: string | undefined, query: string, variables?: Record<string, unknown>): Promise<any> {
  const { body: answer } = await http.request<{ data?: unknown; errors?: unknown[] }>(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body(query, variables),
  });
  if (answer.errors) throw new Error(`GraphQL error: ${JSON.stringify(answer.errors)}`);
  return answer.data;
}

async function loggedIn(server: Promise<ServerProcess>): Promise<Target> {
  const started = await server;
  const data = await gql(started.url, undefined, 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }', {
    e: ADMIN.email,
    p: ADMIN.password,
  });
  return { server: started, token: data.login.token as string };
}

async function main(): Promise<void> {
  const started = now();
  await compileServers();
  const database = await createBenchDatabase();
  const servers = new Set<ServerProcess>();
  const common = {
    APPSERVER_DATABASE_URL: database.url,
    APPSERVER_EVENTBUS_ENABLED: 'true',
    APPSERVER_EVENTBUS_TEST_MODE: 'true',
    APPSERVER_RABBITMQ_URL: RABBITMQ_URL,
    // Every server of the run on one bus namespace, as instances of one deployment.
    APPSERVER_EVENTBUS_NAMESPACE: `bench-cache-${run}`,
    APPSERVER_ADMIN_EMAIL: ADMIN.email,
    APPSERVER_ADMIN_PASSWORD: ADMIN.password,
    // As the Dockerfile runs the server (graphql-js, for one, skips its development-time checks).
    NODE_ENV: 'production',
  };
  const track = async (server: Promise<ServerProcess>) => {
    const started = await server;
    servers.add(started);
    return loggedIn(Promise.resolve(started));
  };
  const stop = async ({ server }: Target) => {
    servers.delete(server);
    await server.stop();
  };

  try {
    const cpus = cpuList();
    process.stdout.write(
      `bench:cache — PostgreSQL + Redis + RabbitMQ on this machine (${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}), ` +
        `servers in child processes; run ${run}\n` +
        `Each of the ${CONNECTIONS} connections sends the token of a user of its own and asks for the settings of an app of its own; ` +
        'the server looks the session and the grants up through the same cache as the settings (L1, Redis only, or PostgreSQL with the cache off).\n\n',
    );
    const [a, b] = await Promise.all([
      track(startServerProcess({ ...common, APPSERVER_REDIS_URL: REDIS_URL, APPSERVER_INSTANCE_ID: `bench-cache-a-${run}` }, await freePort())),
      track(startServerProcess({ ...common, APPSERVER_REDIS_URL: REDIS_URL, APPSERVER_INSTANCE_ID: `bench-cache-b-${run}` }, await freePort())),
    ]);
    for (let i = 0; i < APPS; i++) {
      await gql(a.server.url, a.token, 'mutation($i: RegisterAppInput!) { registerApp(input: $i) { id } }', { i: { name: appName(i), version: '1.0.0' } });
      await gql(a.server.url, a.token, UPDATE, { a: appName(i), v: { theme: 'light', pageSize: 20, n: 0 } });
    }
    // (a) propagation
    const propagation = ONLY === 'throughput' ? undefined : await measurePropagation(a, b);
    await stop(b);
    if (ONLY === 'propagation') return reportPropagation(propagation!);
    const clients = await createClients(a);

    // (b) throughput: the L1 server is A; the others start now, so none of them ran during (a).
    const [l2Only, off, interpreted] = await Promise.all([
      track(startBenchServer({ ...common, APPSERVER_REDIS_URL: REDIS_URL }, ['--l1-max-entries=0'])),
      track(startBenchServer(common, ['--l1-max-entries=0'])),
      track(startBenchServer({ ...common, APPSERVER_REDIS_URL: REDIS_URL }, ['--interpreted-queries'])),
    ]);
    const loaded = [a, l2Only, off, interpreted].map((target) => target.server.pid);
    // The server under load on CPU 0, autocannon (this process) on CPU 1; PostgreSQL and Redis where the scheduler puts them.
    const pinned = (await Promise.all(loaded.map((pid) => pinToCpu(pid, 0)))).every(Boolean) && (await pinToCpu(process.pid, 1));
    process.stdout.write(
      pinned ? '(b) servers pinned to CPU 0, the load generator to CPU 1 (taskset)\n' : '(b) servers and load generator NOT pinned (needs taskset and two CPUs): figures vary more\n',
    );
    const trivial = () => body('{ __typename }');
    const results = await measureThroughput([
      { name: 'appSettings — L1 (+ Redis L2)', server: a.server, clients, makeBody: settingsBody },
      { name: '{ __typename } on the same server (ceiling)', server: a.server, clients, makeBody: trivial },
      { name: '{ __typename }, same server, no session (for scale)', server: a.server, clients: clients.map((c) => ({ ...c, token: '' })), makeBody: trivial },
      { name: '{ me { id } }, same server: one resolver, user from L1 (for scale)', server: a.server, clients, makeBody: () => body('{ me { id } }') },
      { name: 'appSettings — Redis L2 only (l1MaxEntries 0)', server: l2Only.server, clients, makeBody: settingsBody },
      { name: 'appSettings — cache off (no Redis, l1MaxEntries 0)', server: off.server, clients, makeBody: settingsBody },
      { name: 'appSettings — L1, every query through graphql-js (peer: not compiled)', server: interpreted.server, clients, makeBody: settingsBody },
      { name: '{ __typename } on that server (its ceiling)', server: interpreted.server, clients, makeBody: trivial },
    ]);
    if (propagation) reportPropagation(propagation);
    reportThroughput(results);
    process.stdout.write(`Total ${((now() - started) / 1000).toFixed(0)} s.\n`);
  } finally {
    http.close();
    await Promise.all([...servers].map((server) => server.stop()));
    await database.drop();
  }
}

interface Propagation {
  /** A's response → B's first answer with the new value (the figure with the target). */
  readonly samples: number[];
  readonly mutationMs: number[];
  readonly firstPollFresh: number;
  readonly polls: number;
  /** Breakdown pass: A's response → B's /health shows the entry dropped from its L1. */
  readonly droppedMs: number[];
  /** Breakdown pass: then B's read of the new value (an L1 miss: Redis, PostgreSQL, Redis write). */
  readonly missReadMs: number[];
  /** For scale: one appSettings request answered from B's L1. */
  readonly hitReadMs: number[];
}

/**
 * B reads the app's settings (so they are in its L1), A updates them, and B
 * is polled back to back until it answers with the new value. The clock
 * starts when A's response has arrived: the change is committed and A's own
 * entries are dropped; what remains is the event reaching B, and B's read.
 *
 * A second, shorter pass splits that time: B's /health (no database, no
 * session) is polled until its settings L1 is empty — the event has arrived
 * and its handler ran — and then B is read once.
 */
async function measurePropagation(a: Target, b: Target): Promise<Propagation> {
  const app = appName(0);
  const samples: number[] = [];
  const mutationMs: number[] = [];
  let firstPollFresh = 0;
  let polls = 0;
  let n = 0;
  const readOnB = async () => ((await gql(b.server.url, b.token, SETTINGS, { a: app })) as { appSettings: { values: { n: number } } }).appSettings.values.n;
  const update = async () => {
    n++;
    const sent = now();
    await gql(a.server.url, a.token, UPDATE, { a: app, v: { n } });
    const answered = now();
    mutationMs.push(answered - sent);
    return answered;
  };
  const timedOut = (since: number) => {
    if (now() - since > PROPAGATION_TIMEOUT_MS) throw new Error(`B still served an older value ${PROPAGATION_TIMEOUT_MS} ms after update ${n}`);
  };

  await readOnB();
  const hitReadMs: number[] = [];
  for (let i = 0; i < 200; i++) {
    const started = now();
    await readOnB();
    hitReadMs.push(now() - started);
  }

  const before = await settingsStats(b.server);
  const writerBefore = await settingsStats(a.server);
  process.stdout.write(`(a) propagation: ${UPDATES} updates through A, B polled until it serves each …\n`);
  for (let i = 0; i < UPDATES; i++) {
    const answered = await update();
    for (let poll = 1; ; poll++) {
      polls++;
      if ((await readOnB()) === n) {
        samples.push(now() - answered);
        if (poll === 1) firstPollFresh++;
        break;
      }
      timedOut(answered);
    }
  }
  const after = await settingsStats(b.server);
  const writerAfter = await settingsStats(a.server);
  process.stdout.write(
    `    A: ${writerAfter.l2WritesThrough - writerBefore.l2WritesThrough} updates written through to Redis, ` +
      `${writerAfter.l2WritesThroughRefused - writerBefore.l2WritesThroughRefused} refused (the key had changed since the ticket)\n`,
  );
  process.stdout.write(
    `    B: ${after.l1Hits - before.l1Hits} L1 hits, ${after.l2Hits - before.l2Hits} L2 hits, ${after.loads - before.loads} loads over ${polls} polls ` +
      `(${polls - UPDATES} of them still saw the old value)\n`,
  );

  // B's L1 holds this one settings entry only, so "l1Entries is 0" means the event has dropped it.
  const droppedMs: number[] = [];
  const missReadMs: number[] = [];
  process.stdout.write(`    breakdown: ${BREAKDOWN_UPDATES} more updates, B's /health polled until its entry is dropped …\n\n`);
  for (let i = 0; i < BREAKDOWN_UPDATES; i++) {
    const answered = await update();
    while ((await settingsStats(b.server)).l1Entries !== 0) timedOut(answered);
    const dropped = now();
    while ((await readOnB()) !== n) timedOut(answered);
    droppedMs.push(dropped - answered);
    missReadMs.push(now() - dropped);
  }
  return { samples, mutationMs, firstPollFresh, polls, droppedMs, missReadMs, hitReadMs };
}

/**
 * One user per connection, each with `settings.read` on one app (connection
 * i: app i mod APPS) and a session of its own. Users and grants are created
 * through A; sessions live in the shared database, so every server accepts them.
 */
async function createClients(a: Target): Promise<Client[]> {
  const password = `bench-user-password-${run}`;
  const createOne = async (index: number): Promise<Client> => {
    const email = `bench-user-${index}-${run}@appserver.test`;
    const app = appName(index % APPS);
    const created = await gql(a.server.url, a.token, 'mutation($i: CreateUserInput!) { createUser(input: $i) { id } }', { i: { email, password } });
    await gql(a.server.url, a.token, 'mutation($i: PermissionInput!) { grantPermission(input: $i) }', {
      i: { subjectType: 'USER', subject: created.createUser.id, action: 'settings.read', resource: app },
    });
    const data = await gql(a.server.url, undefined, 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }', { e: email, p: password });
    return { token: data.login.token as string, appName: app };
  };
  const clients: Client[] = [];
  // A few at a time: each user costs two password hashes (creation, login) on the server's thread pool.
  for (let first = 0; first < CONNECTIONS; first += 8) {
    const batch = Array.from({ length: Math.min(8, CONNECTIONS - first) }, (_, i) => createOne(first + i));
    clients.push(...(await Promise.all(batch)));
  }
  return clients;
}

interface Scenario {
  readonly name: string;
  readonly server: ServerProcess;
  /** One per connection, in connection order. */
  readonly clients: readonly Client[];
  readonly makeBody: (client: Client) => string;
}

interface Throughput {
  readonly name: string;
  /** Medians over the rounds. */
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly roundsRps: number[];
  /** The server's CPU time (user + kernel) per request, µs, each round: what the request costs the server, whatever else the machine did meanwhile. */
  readonly roundsCpuUs: number[];
  readonly errors: number;
  /** Where the appSettings reads were answered, from the server's counters; '—' for the trivial query. */
  readonly servedFrom: string;
}

function settingsBody(client: Client): string {
  return body(SETTINGS, { a: client.appName });
}

async function measureThroughput(scenarios: Scenario[]): Promise<Throughput[]> {
  const rounds = scenarios.map(() => ({ rps: [] as number[], cpuUs: [] as number[], p50: [] as number[], p99: [] as number[], errors: 0, l1: 0, l2: 0, db: 0 }));
  for (let round = 1; round <= ROUNDS; round++) {
    process.stdout.write(`(b) round ${round} of ${ROUNDS}: ${scenarios.length} scenarios, ${CONNECTIONS} connections, 1 s warm-up + ${SECONDS} s each …\n`);
    for (const [i, scenario] of scenarios.entries()) {
      await load(scenario, 1);
      const before = await settingsStats(scenario.server);
      const cpuBefore = processCpuMs(scenario.server.pid);
      const result = await load(scenario, SECONDS);
      const cpuMs = processCpuMs(scenario.server.pid) - cpuBefore;
      const after = await settingsStats(scenario.server);
      const r = rounds[i];
      r.rps.push(result.requests.average);
      r.cpuUs.push((cpuMs * 1000) / result.requests.total);
      r.p50.push(result.latency.p50);
      r.p99.push(result.latency.p99);
      r.errors += result.errors + result.non2xx;
      r.l1 += after.l1Hits - before.l1Hits;
      r.l2 += after.l2Hits - before.l2Hits;
      r.db += after.loads - before.loads;
    }
  }
  return scenarios.map(({ name }, i) => {
    const r = rounds[i];
    const reads = r.l1 + r.l2 + r.db;
    const share = (count: number) => `${Math.round((100 * count) / reads)}%`;
    return {
      name,
      rps: median(r.rps),
      p50: median(r.p50),
      p99: median(r.p99),
      roundsRps: r.rps,
      roundsCpuUs: r.cpuUs,
      errors: r.errors,
      servedFrom: reads === 0 ? '—' : `L1 ${share(r.l1)} / L2 ${share(r.l2)} / DB ${share(r.db)}`,
    };
  });
}

/** Connection i sends client i's request, the same one every time (built once, not per request). */
async function load({ server, clients, makeBody }: Scenario, seconds: number): Promise<autocannon.Result> {
  let connection = 0;
  return autocannon({
    url: `${server.url}/graphql`,
    method: 'POST',
    connections: clients.length,
    duration: seconds,
    setupClient: (client) => {
      const own = clients[connection++ % clients.length];
      const headers = { 'content-type': 'application/json', ...(own.token ? { authorization: `Bearer ${own.token}` } : {}) };
      client.setHeadersAndBody(headers, makeBody(own));
    },
  });
}

async function settingsStats(server: ServerProcess): Promise<CacheNamespaceStats> {
  const { body: health } = await http.request<HealthReport>(`${server.url}/health`);
  return health.cache.namespaces.settings;
}

/** Median over the rounds of `a`'s server CPU per request over `b`'s in the same round: `b`'s throughput relative to `a` if CPU were the only limit. */
function cpuRatio(a: Throughput, b: Throughput): number {
  return median(a.roundsCpuUs.map((us, round) => us / b.roundsCpuUs[round]));
}

/** Median over the rounds of `a`'s req/s over `b`'s in the same round. */
function ratio(a: Throughput, b: Throughput): number {
  return median(a.roundsRps.map((rps, round) => rps / b.roundsRps[round]));
}

function reportPropagation(propagation: Propagation): void {
  const latency = summarize(propagation.samples);
  const row = (label: string, samples: number[]) => {
    const s = summarize(samples);
    return [label, String(s.count), formatMs(s.p50), formatMs(s.p90), formatMs(s.p99), formatMs(s.max)];
  };
  process.stdout.write(
    `\n(a) Invalidation propagation across two server processes\n` +
      formatTable(['', 'n', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'], [
        row("A's response → B serves the new value", propagation.samples),
        row("  breakdown: A's response → B's entry dropped", propagation.droppedMs),
        row('  breakdown: then B reads the new value (L1 miss)', propagation.missReadMs),
        row('for scale: appSettings from L1 on B', propagation.hitReadMs),
        row('for scale: updateAppSettings on A', propagation.mutationMs),
      ]) +
      `\nB's first poll after A's response already had the new value in ${propagation.firstPollFresh} of ${latency.count} updates.\n` +
      `Target: propagation p99 ${formatMs(latency.p99)} ms ≤ ${PROPAGATION_TARGET_P99_MS} ms: ${verdict(latency.p99 <= PROPAGATION_TARGET_P99_MS)}\n`,
  );
}

const verdict = (met: boolean) => (met ? 'met' : 'NOT met');

function reportThroughput(results: Throughput[]): void {
  const [l1, trivial, , , l2, off, interpretedL1, interpretedTrivial] = results;
  process.stdout.write(
    `\n(b) appSettings over HTTP, ${CONNECTIONS} connections; medians of ${ROUNDS} rounds of ${SECONDS} s (ratios: medians of the per-round ratios)\n` +
      formatTable(
        ['scenario', 'req/s', 'rounds req/s', 'p50 ms', 'p99 ms', 'errors', 'settings answered from', 'vs cache off', 'vs trivial', 'server CPU µs/req', 'CPU: trivial / this'],
        results.map((r) => [
          r.name,
          formatRate(r.rps),
          r.roundsRps.map(formatRate).join(' / '),
          formatMs(r.p50, 1),
          formatMs(r.p99, 1),
          String(r.errors),
          r.servedFrom,
          formatRatio(ratio(r, off)),
          formatRatio(ratio(r, trivial)),
          formatMs(median(r.roundsCpuUs), 1),
          formatRatio(cpuRatio(trivial, r)),
        ]),
      ) +
      '\n',
  );

  const l1VsOff = ratio(l1, off);
  const l1VsTrivial = ratio(l1, trivial);
  process.stdout.write(
    `\nTargets\n` +
      `  L1 ${formatRatio(l1VsOff)} cache off, target ≥ ${L1_VS_OFF_TARGET}×: ${verdict(l1VsOff >= L1_VS_OFF_TARGET)}\n` +
      `  L1 ${formatRatio(l1VsTrivial)} trivial query, target ≥ ${L1_VS_TRIVIAL_TARGET}×: ${verdict(l1VsTrivial >= L1_VS_TRIVIAL_TARGET)}\n` +
      `  (L2 only: ${formatRatio(ratio(l2, off))} cache off)\n` +
      `  (compiled queries: L1 ${formatRatio(ratio(l1, interpretedL1))} the req/s and ${formatRatio(cpuRatio(interpretedL1, l1))} the CPU ratio ` +
      `of the same on a server running every query through graphql-js, where L1 is ${formatRatio(ratio(interpretedL1, interpretedTrivial))} ` +
      `its trivial query, ${formatRatio(cpuRatio(interpretedTrivial, interpretedL1))} by CPU)\n` +
      `  (server CPU per request, trivial query / L1: ${formatRatio(cpuRatio(trivial, l1))}: the same comparison, less moved by the rest of the machine)\n`,
  );
}

/** A server built with options that have no environment variable (scripts/bench/cache-bench-server.ts). */
async function startBenchServer(env: Record<string, string>, args: string[]): Promise<ServerProcess> {
  return startServerProcess(env, await freePort(), 'scripts/bench/cache-bench-server.ts', args);
}

main().catch((error: Error) => {
  process.stderr.write(`bench:cache failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
