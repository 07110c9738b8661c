import { ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { HealthReport } from '../../src/health/health.controller';
import { GraphQLResponse, TEST_ADMIN } from './app-server-harness';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');

/** A free loopback port (the OS picks it; the child binds it right after). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * One AppServer in a child process, started as `npm start` starts it
 * (src/main.ts, configuration from the environment only), so two of them are
 * two instances with nothing in common but the services. Its output is kept
 * and printed when it fails to start, or with TEST_LOGS set. Every server
 * creates TEST_ADMIN at boot; `loginAsAdmin` makes later requests theirs.
 */
export class ServerProcess {
  private output = '';
  private token: string | undefined;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    const keep = (chunk: Buffer) => {
      this.output += chunk.toString();
      if (process.env.TEST_LOGS) process.stderr.write(`[${name}] ${chunk.toString()}`);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  static async start(name: string, env: Record<string, string>, timeoutMs = 60_000): Promise<ServerProcess> {
    const port = await freePort();
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        APPSERVER_ADMIN_EMAIL: TEST_ADMIN.email,
        APPSERVER_ADMIN_PASSWORD: TEST_ADMIN.password,
        ...env,
        APPSERVER_PORT: String(port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const server = new ServerProcess(name, child, `http://127.0.0.1:${port}`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}) while starting:\n${server.output}`);
      try {
        if ((await fetch(`${server.url}/health`)).ok) return server;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await server.stop();
        throw new Error(`${name} did not become healthy within ${timeoutMs} ms:\n${server.output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** What the process printed so far (logs, warnings). */
  get logs(): string {
    return this.output;
  }

  /** Logs in as TEST_ADMIN; every later request of this object carries that session's token. */
  async loginAsAdmin(): Promise<void> {
    this.token = undefined;
    const response = await this.gql<{ login: { token: string } }>(
      'mutation Login($email: String!, $password: String!) { login(email: $email, password: $password) { token } }',
      { ...TEST_ADMIN },
    );
    if (!response.data?.login) throw new Error(`${this.name}: login as ${TEST_ADMIN.email} failed: ${JSON.stringify(response.errors)}`);
    this.token = response.data.login.token;
  }

  async gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>> {
    return this.gqlWith(this.token, query, variables);
  }

  /** This server, sending requests with `token` (undefined: none) instead of the admin's: another user's client on the same instance. */
  as(token: string | undefined): { gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>> } {
    return { gql: (query, variables) => this.gqlWith(token, query, variables) };
  }

  private async gqlWith<T>(token: string | undefined, query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>> {
    const response = await fetch(`${this.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const text = await response.text();
    let body: { data?: T; errors?: GraphQLResponse['errors'] };
    try {
      body = JSON.parse(text);
    } catch {
      body = { errors: [{ message: text }] };
    }
    return { status: response.status, data: body.data, errors: body.errors, headers: response.headers };
  }

  /** GET /health, whatever its status code. */
  async health(): Promise<HealthReport> {
    return (await (await fetch(`${this.url}/health`)).json()) as HealthReport;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * A RabbitMQ virtual host of one test file's own: its instances' queues and
 * connections are apart from every other test's, so cutting "all
 * connections" cuts only this test's, and deleting it removes everything.
 */
export class TestVhost {
  readonly name = `appserver-test-${randomBytes(4).toString('hex')}`;

  static async create(): Promise<TestVhost> {
    const vhost = new TestVhost();
    await rabbitmqctl('add_vhost', vhost.name);
    await rabbitmqctl('set_permissions', '-p', vhost.name, 'guest', '.*', '.*', '.*');
    return vhost;
  }

  /** Closes every client connection to this vhost, as a network blip or a broker restart would. */
  async closeAllConnections(): Promise<void> {
    await rabbitmqctl('close_all_connections', '--vhost', this.name, 'test: bus connection cut on purpose');
  }

  async delete(): Promise<void> {
    await rabbitmqctl('delete_vhost', this.name);
  }
}

async function rabbitmqctl(...args: string[]): Promise<void> {
  await run('rabbitmqctl', ['-q', ...args], { timeout: 30_000 });
}
