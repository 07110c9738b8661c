/**
 * Preloaded (`-r`) into the server processes of bench:subscriptions, which
 * start node with --expose-gc and an IPC channel: on the message `'memory'`
 * it runs a full GC and answers with `process.memoryUsage()`, so the bench
 * reads the server's memory after a collection the same way for AppServer and
 * for the bare peer. (Not a signal: Nest's enableShutdownHooks() shuts the
 * server down on SIGUSR2, SIGHUP and most others.) Benchmark use only; nothing
 * in src/ knows about it.
 */
if (process.send && process.channel) {
  // The channel must not keep the server alive once it has been asked to stop.
  process.channel.unref();
  process.on('message', (message) => {
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
