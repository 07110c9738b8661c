/**
 * Preloaded (`-r`) into the server processes of bench:subscriptions, which
 * start node with --expose-gc and an IPC channel: on the message `'memory'`
 * it runs a full GC and answers with `process.memoryUsage()`, so the bench
 * reads the server's memory after a collection the same way for AppServer and
 * for the bare peer. (Not a signal: Nest's enableShutdownHooks() shuts the
 * server down on SIGUSR2, SIGHUP and most others.) On `{ cpuProfile: 'start' }`
 * and `{ cpuProfile: 'stop', path }` it records a V8 CPU profile (node:inspector)
 * and writes it to `path`, so a profile covers the measured rounds only, not
 * start-up or connecting. Benchmark use only; nothing in src/ knows about it.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

interface CpuProfileMessage {
  readonly cpuProfile: 'start' | 'stop';
  readonly path?: string;
}

function isCpuProfileMessage(message: unknown): message is CpuProfileMessage {
  return typeof message === 'object' && message !== null && 'cpuProfile' in message;
}

/** One inspector session per process, opened on the first `start`. */
class CpuProfiler {
  private session?: Session;

  async handle(message: CpuProfileMessage): Promise<void> {
    if (message.cpuProfile === 'start') {
      this.session ??= new Session();
      this.session.connect();
      await this.post('Profiler.enable');
      await this.post('Profiler.start');
      return;
    }
    const { profile } = (await this.post('Profiler.stop')) as { profile: unknown };
    if (message.path) writeFileSync(message.path, JSON.stringify(profile));
    this.session?.disconnect();
  }

  private post(method: string): Promise<unknown> {
    return new Promise((resolve, reject) => this.session!.post(method, (error, result) => (error ? reject(error) : resolve(result))));
  }
}

if (process.send && process.channel) {
  // The channel must not keep the server alive once it has been asked to stop.
  process.channel.unref();
  const profiler = new CpuProfiler();
  process.on('message', (message: unknown) => {
    if (isCpuProfileMessage(message)) {
      profiler.handle(message).then(
        () => process.send?.({ cpuProfile: message.cpuProfile }),
        (error: Error) => process.send?.({ cpuProfile: message.cpuProfile, error: error.message }),
      );
      return;
    }
    if (message !== 'memory') return;
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    // A second pass after the weak callbacks and finalizers of the first have run.
    setImmediate(() => {
      gc?.();
      process.send?.({ memory: { ...process.memoryUsage(), gc: Boolean(gc) } });
    });
  });
}
