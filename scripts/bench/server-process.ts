/**
 * Runs an AppServer in a child process for the HTTP benchmarks, so the load
 * generator in this process does not share an event loop with the server.
 */
import { ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { sleep } from './stats';

export const BENCH_POSTGRES = 'postgres://postgres@127.0.0.1:5432';

/** A throwaway PostgreSQL database for one benchmark run. */
export async function createBenchDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `appserver_bench_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: `${BENCH_POSTGRES}/postgres` });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    url: `${BENCH_POSTGRES}/${name}`,
    drop: async () => {
      const client = new Client({ connectionString: `${BENCH_POSTGRES}/postgres` });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export interface ServerProcess {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

const CLOCK_TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time process `pid` has used so far, user + kernel, in ms (utime + stime from /proc/<pid>/stat; Linux). */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** A free loopback port (the OS picks it; the child binds it right after). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const ROOT = join(__dirname, '..', '..');
const COMPILED_ROOT = join(ROOT, 'dist-bench');

/**
 * Compiles the sources and the benchmark scripts into dist-bench/ (tsconfig.bench.json).
 * Benchmarks run their servers compiled, as production runs `node dist/main.js`:
 * under ts-node a server would also load Node's `domain` module, which wraps
 * every EventEmitter.emit and async resource and skews what is measured.
 */
export async function compileServers(): Promise<void> {
  const started = Date.now();
  await promisify(execFile)(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.bench.json')], { cwd: ROOT });
  process.stderr.write(`compiled the servers into dist-bench/ in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

/** The compiled form of `script` (a .ts path relative to the repository root); compileServers() makes it. */
export function compiled(script: string): string {
  const path = join(COMPILED_ROOT, script.replace(/\.ts$/, '.js'));
  if (!existsSync(path)) throw new Error(`${path} does not exist: call compileServers() before starting servers`);
  return path;
}

/**
 * Starts `script` (default: the server as `npm start` runs it), compiled, with
 * `env` on `port`, and resolves once GET /health answers 200.
 */
export async function startServerProcess(
  env: Record<string, string>,
  port: number,
  script = 'src/main.ts',
  args: string[] = [],
): Promise<ServerProcess> {
  const root = ROOT;
  // BENCH_CPU_PROF=<dir>: each server writes a CPU profile there when it stops.
  const profiling = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child: ChildProcess = spawn(process.execPath, [...profiling, compiled(script), ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env, APPSERVER_PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilHealthy(child, url, 60_000, 'The server');
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}: ${stderr}`);
  }
  return {
    url,
    pid: child.pid!,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * Pins every thread of process `pid` (a server, or this process with its load
 * generator) to CPU `cpu`, with Linux's `taskset`; false, changing nothing,
 * where that cannot be done (fewer than two CPUs, no taskset). Why: left to
 * the scheduler on a 2-core machine, the server's main thread and the load
 * generator's at times share one core, and the server then costs up to twice
 * the CPU per request for a whole run — measured here with one server and one
 * workload: 164 to 390 µs per request unpinned, 157 to 205 µs pinned. Threads
 * created later (V8's, libuv's) inherit the pin.
 */
export async function pinToCpu(pid: number, cpu: number): Promise<boolean> {
  if (cpus().length < 2) return false;
  try {
    await promisify(execFile)('taskset', ['--all-tasks', '--cpu-list', '--pid', String(cpu), String(pid)]);
    return true;
  } catch {
    return false;
  }
}

/** Polls GET /health of the server `child` runs until it answers 200; rejects if it exits or `timeoutMs` passes first. */
export async function waitUntilHealthy(child: ChildProcess, url: string, timeoutMs: number, name: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}) while starting`);
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${name} did not become healthy within ${timeoutMs / 1000} s`);
    await sleep(200);
  }
}

/** One GraphQL request, as the session of `token` when given; throws on any error. */
export async function graphql(url: string, query: string, variables?: Record<string, unknown>, token?: string): Promise<any> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: unknown; errors?: unknown[] };
  if (body.errors) throw new Error(`GraphQL error: ${JSON.stringify(body.errors)}`);
  return body.data;
}

/**
 * JSON over HTTP/1.1 on kept-alive sockets, for the latency measurements:
 * Node's fetch (undici) adds about 0.8 ms to every request on this kind of
 * machine, and a tail of its own (p99 10 ms against 5 ms for a plain
 * node:http request to the same server), which a benchmark would count as the
 * server's. `close()` when done, or the sockets keep the process alive.
 */
export class JsonHttpClient {
  private readonly agent = new Agent({ keepAlive: true });

  request<T = unknown>(url: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: T }> {
    const headers = init.body === undefined ? init.headers : { ...init.headers, 'content-length': String(Buffer.byteLength(init.body)) };
    return new Promise((resolve, reject) => {
      const outgoing = request(url, { method: init.method ?? 'GET', headers, agent: this.agent }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          try {
            resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as T });
          } catch (error) {
            reject(error);
          }
        });
      });
      outgoing.on('error', reject);
      outgoing.end(init.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
