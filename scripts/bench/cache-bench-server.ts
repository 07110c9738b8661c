/**
 * A server for bench:cache with options that have no environment variable:
 * `src/main.ts`, but built with `AppModuleOptions.cache` and `.graphql`.
 * Benchmark use only; production servers start from src/main.ts.
 *
 *   ts-node --transpile-only scripts/bench/cache-bench-server.ts [--l1-max-entries=N] [--interpreted-queries]
 *
 * Everything else comes from the environment (APPSERVER_*), as for `npm start`;
 * without APPSERVER_REDIS_URL the cache has no L2, so `--l1-max-entries=0`
 * without Redis is the cache switched off.
 */
import 'reflect-metadata';
import { createAppServer } from '../../src/app-server';
import type { AppModuleOptions } from '../../src/app.module';
import { loadConfig } from '../../src/config/load-config';

/** `--l1-max-entries=N`: the L1 bound of every namespace; `--interpreted-queries`: every query through graphql-js, none compiled. */
function moduleOptions(args: readonly string[]): AppModuleOptions {
  let l1MaxEntries: number | undefined;
  let compileQueries = true;
  for (const arg of args) {
    const match = /^--l1-max-entries=(\d+)$/.exec(arg);
    if (match) l1MaxEntries = Number(match[1]);
    else if (arg === '--interpreted-queries') compileQueries = false;
    else throw new Error(`Unknown argument "${arg}" (known: --l1-max-entries=N, --interpreted-queries)`);
  }
  return { cache: l1MaxEntries === undefined ? {} : { defaults: { l1MaxEntries } }, graphql: { compileQueries } };
}

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const app = await createAppServer(config, moduleOptions(process.argv.slice(2)));
  app.enableShutdownHooks();
  await app.listen(config.port, '127.0.0.1');
}

main().catch((error: Error) => {
  process.stderr.write(`cache-bench-server failed to start: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
