/**
 * Server child processes for bench:subscriptions: AppServer (src/main.ts) or
 * the bare graphql-ws peer, each started with --expose-gc and the memory
 * probe preloaded, so both are measured alike: RSS and CPU from /proc, the
 * heap after a full GC from the probe (asked over the IPC channel).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compiled, processCpuMs, waitUntilHealthy } from './server-process';

const ROOT = join(__dirname, '..', '..');
/**
 * The young generation pinned at V8's default maximum (16 MB per semi-space on 64-bit). Otherwise it grows
 * from 1 MB to 16 MB the first time a process allocates briskly, adding up to ~48 MB of RSS in one step,
 * whenever that happens: during AppServer's start-up, but during the peer's first thousand connections,
 * which would charge the peer's connections for it.
 */
const SEMI_SPACE = ['--min-semi-space-size=16', '--max-semi-space-size=16'];
/** Output kept per process (the tail), for the report of warnings and errors. */
const MAX_OUTPUT = 2_000_000;

export interface MemoryReport {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
  readonly gc: boolean;
}

export { freePort } from './server-process';

export class BenchServer {
  private output = '';
  private memoryWaiters: Array<(report: MemoryReport) => void> = [];
  private profileWaiters: Array<(error?: string) => void> = [];

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => this.keep(chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => this.keep(chunk.toString()));
    child.on('message', (message: { memory?: MemoryReport; cpuProfile?: string; error?: string }) => {
      if (message?.memory) for (const resolve of this.memoryWaiters.splice(0)) resolve(message.memory);
      if (message?.cpuProfile) this.profileWaiters.shift()?.(message.error);
    });
  }

  /** Starts `script` (relative to the repository root) with `env` and waits for GET /health. */
  static async start(name: string, script: string, env: Record<string, string>, port: number): Promise<BenchServer> {
    const child = spawn(
      process.execPath,
      ['--expose-gc', ...SEMI_SPACE, '-r', compiled('scripts/bench/memory-probe.ts'), compiled(script)],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
    );
    const server = new BenchServer(name, child, `http://127.0.0.1:${port}`);
    try {
      await waitUntilHealthy(child, server.url, 90_000, name);
    } catch (error) {
      await server.stop();
      throw new Error(`${(error as Error).message}:\n${server.output}`);
    }
    return server;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get logs(): string {
    return this.output;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** VmRSS from /proc, in bytes. */
  rssBytes(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
    if (!match) throw new Error(`No VmRSS in /proc/${this.pid}/status`);
    return Number(match[1]) * 1024;
  }

  /** utime + stime so far, in ms. */
  cpuMs(): number {
    return processCpuMs(this.pid);
  }

  /** Full GC in the child, then its process.memoryUsage() (RSS read after the GC, too). */
  async collectAndMeasure(): Promise<MemoryReport> {
    const report = new Promise<MemoryReport>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no memory report within 10 s`)), 10_000);
      this.memoryWaiters.push((value) => {
        clearTimeout(timer);
        resolve(value);
      });
    });
    this.child.send('memory');
    return report;
  }

  /** Starts a CPU profile in the child (memory-probe.ts), or stops it and has it written to `path`. */
  async cpuProfile(action: 'start' | 'stop', path?: string): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no CPU profile answer within 30 s`)), 30_000);
      this.profileWaiters.push((error) => {
        clearTimeout(timer);
        if (error) reject(new Error(`${this.name}: CPU profile ${action}: ${error}`));
        else resolve();
      });
    });
    this.child.send({ cpuProfile: action, path });
    return done;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.running) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  private keep(text: string): void {
    this.output += text;
    if (this.output.length > MAX_OUTPUT) this.output = this.output.slice(-MAX_OUTPUT);
  }
}
