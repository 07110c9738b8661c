import { TypeOrmModuleOptions } from '@nestjs/typeorm';
import { AppServerConfig } from '../config/app-server.config';
import { DatabaseModuleOptions, DEFAULT_EMBEDDED_FILE, IN_MEMORY } from './database-module.options';
import { writeFileAtomically } from './embedded-file';
import { MIGRATIONS } from './migrations';

/** Network failures worth another attempt at boot; anything else (bad password, missing database, a failing migration) fails at once. */
const TRANSIENT_CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', '57P03']);

function isTransientConnectError(error: unknown): boolean {
  return TRANSIENT_CONNECT_ERRORS.has((error as { code?: string } | undefined)?.code ?? '');
}

/**
 * The TypeORM options for the configured database. Entities come from each
 * domain's `TypeOrmModule.forFeature([...])` (autoLoadEntities); migrations
 * are the committed list in ./migrations, run at boot by createDataSource under
 * a lock, never `synchronize`.
 */
export function dataSourceOptionsFor(config: AppServerConfig, options: DatabaseModuleOptions): TypeOrmModuleOptions {
  const common = {
    autoLoadEntities: true,
    synchronize: false,
    // createDataSource runs them itself, holding a lock, so instances booting together don't race.
    migrationsRun: false,
    migrations: [...MIGRATIONS],
    migrationsTransactionMode: 'each' as const,
    logging: options.logSql ?? false,
    retryAttempts: options.connectAttempts ?? 5,
    retryDelay: options.connectRetryDelayMs ?? 2000,
    toRetry: isTransientConnectError,
  };
  if (config.databaseUrl !== undefined) {
    return {
      ...common,
      type: 'postgres',
      url: config.databaseUrl,
      applicationName: `appserver ${config.instanceId}`,
      extra: { max: options.poolSize ?? 10 },
    };
  }
  const file = options.embeddedFile ?? DEFAULT_EMBEDDED_FILE;
  if (file === IN_MEMORY) return { ...common, type: 'sqljs' };
  return {
    ...common,
    type: 'sqljs',
    location: file,
    // Saved after every commit (the commit resolves once the file is written), atomically.
    autoSave: true,
    autoSaveCallback: (data: Uint8Array) => writeFileAtomically(file, data),
  };
}
