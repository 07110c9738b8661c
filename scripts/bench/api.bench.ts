/**
 * npm run bench:api — requests/s and latency over HTTP for `app(name:)` and
 * `updateAppSettings`, against a trivial query on the same server as the
 * ceiling. The server runs in a child process on PostgreSQL and RabbitMQ (the
 * production set-up); autocannon generates the load on loopback.
 *
 * BENCH_SECONDS (default 10) per scenario, BENCH_CONNECTIONS (default 50).
 * With taskset and two CPUs the server runs on CPU 0 and autocannon on CPU 1,
 * as in bench:cache (see pinToCpu: unpinned, the scheduler at times puts both
 * on one core, and a scenario's figure halves).
 */
import autocannon from 'autocannon';
import { compileServers, createBenchDatabase, graphql, pinToCpu, startServerProcess } from './server-process';
import { formatMs, formatRatio, formatRate, formatTable } from './stats';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const APPS = 50;
/** Every operation but the trivial one needs a session: the bench logs in as the first admin the server creates. */
const ADMIN = { email: 'bench-admin@appserver.test', password: 'bench-admin-password' };

interface Scenario {
  readonly name: string;
  readonly body: (counter: number) => string;
}

interface Result {
  readonly name: string;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
}

const body = (query: string, variables?: Record<string, unknown>) => JSON.stringify({ query, variables });

const SCENARIOS: Scenario[] = [
  { name: 'trivial query { __typename } (ceiling)', body: () => body('{ __typename }') },
  {
    name: 'app(name:)',
    body: (i) => body('query($n: String!) { app(name: $n) { id name version state installedAt updatedAt } }', { n: appName(i % APPS) }),
  },
  {
    name: 'updateAppSettings',
    // Each request changes a value, so each one writes a row, bumps the version and records an event.
    body: (i) =>
      body('mutation($a: String!, $v: JSON!) { updateAppSettings(appName: $a, values: $v) { version } }', {
        a: appName(i % APPS),
        v: { pageSize: (i % 100) + 1 },
      }),
  },
];

function appName(index: number): string {
  return `de.bench.app-${index}`;
}

async function run(url: string, token: string, scenario: Scenario, seconds: number): Promise<Result> {
  let counter = 0;
  const result = await autocannon({
    url: `${url}/graphql`,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        setupRequest: (request) => ({ ...request, body: scenario.body(counter++) }),
      },
    ],
  });
  return {
    name: scenario.name,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

async function main(): Promise<void> {
  await compileServers();
  const database = await createBenchDatabase();
  const server = await startServerProcess(
    {
      APPSERVER_DATABASE_URL: database.url,
      APPSERVER_EVENTBUS_ENABLED: 'true',
      APPSERVER_EVENTBUS_TEST_MODE: 'true',
      APPSERVER_ADMIN_EMAIL: ADMIN.email,
      APPSERVER_ADMIN_PASSWORD: ADMIN.password,
    },
    31000 + Math.floor(Math.random() * 2000),
  );
  try {
    const login = await graphql(server.url, 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }', {
      e: ADMIN.email,
      p: ADMIN.password,
    });
    const token = login.login.token as string;
    const schema = { type: 'object', properties: { pageSize: { type: 'integer', minimum: 1, maximum: 100 } } };
    for (let i = 0; i < APPS; i++) {
      await graphql(server.url, 'mutation($i: RegisterAppInput!) { registerApp(input: $i) { id } }', {
        i: { name: appName(i), version: '1.0.0', settingsSchema: schema },
      }, token);
    }
    const pinned = (await pinToCpu(server.pid, 0)) && (await pinToCpu(process.pid, 1));
    process.stdout.write(
      `Server pid ${server.pid} on PostgreSQL + RabbitMQ; ${CONNECTIONS} connections, ${SECONDS} s per scenario; ` +
        `${pinned ? 'the server pinned to CPU 0, autocannon to CPU 1 (taskset)' : 'not pinned to CPUs (needs taskset and two CPUs)'}.\n`,
    );
    const results: Result[] = [];
    for (const scenario of SCENARIOS) {
      await run(server.url, token, scenario, 2); // warm-up
      results.push(await run(server.url, token, scenario, SECONDS));
    }
    const ceiling = results[0].rps;
    process.stdout.write(
      '\n' +
        formatTable(
          ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'vs trivial'],
          results.map((r) => [r.name, formatRate(r.rps), formatMs(r.p50, 1), formatMs(r.p99, 1), String(r.errors), formatRatio(r.rps / ceiling)]),
        ) +
        '\n',
    );
  } finally {
    await server.stop();
    await database.drop();
  }
}

main().catch((error: Error) => {
  process.stderr.write(`bench:api failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
