/**
 * A server for bench:cache with cache options that have no environment
 * variable: `src/main.ts`, but built with `AppModuleOptions.cache`. Benchmark
 * use only; production servers start from src/main.ts.
 *
 *   ts-node --transpile-only scripts/bench/cache-bench-server.ts [--l1-max-entries=N]
 *
 * Everything else comes from the environment (APPSERVER_*), as for `npm start`;
 * without APPSERVER_REDIS_URL the cache has no L2, so `--l1-max-entries=0`
 * without Redis is the cache switched off.
 */
import 'reflect-metadata';
import { createAppServer } from '../../src/app-server';
import { CacheModuleOptions } from '../../src/cache/cache.options';
import { loadConfig } from '../../src/config/load-config';

function cacheOptions(args: readonly string[]): CacheModuleOptions {
  let l1MaxEntries: number | undefined;
  for (const arg of args) {
    const match = /^--l1-max-entries=(\d+)$/.exec(arg);
    if (!match) throw new Error(`Unknown argument "${arg}" (known: --l1-max-entries=N)`);
    l1MaxEntries = Number(match[1]);
  }
  return l1MaxEntries === undefined ? {} : { defaults: { l1MaxEntries } };
}

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const app = await createAppServer(config, { cache: cacheOptions(process.argv.slice(2)) });
  app.enableShutdownHooks();
  await app.listen(config.port, '127.0.0.1');
}

main().catch((error: Error) => {
  process.stderr.write(`cache-bench-server failed to start: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
