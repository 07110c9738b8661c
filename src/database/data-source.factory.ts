import { DataSource, DataSourceOptions, MigrationExecutor, QueryRunner } from 'typeorm';
import { databaseKindOf } from './database-kind';
import { ensureFolderOf } from './embedded-file';

/** Session-level advisory lock key ("migrat" in ASCII) serializing migrations across instances booting together. */
const MIGRATION_LOCK_KEY = 0x6d6967726174;

/**
 * Opens the database and brings its schema up to date. TypeORM's own
 * `migrationsRun` has no lock: two instances starting at once on an empty
 * PostgreSQL database would both try to create the same tables.
 */
export async function createDataSource(options?: DataSourceOptions): Promise<DataSource> {
  if (!options) throw new Error('DatabaseModule: no data source options');
  if (options.type === 'sqljs' && options.location) ensureFolderOf(options.location);
  const dataSource = new DataSource(options);
  await dataSource.initialize();
  try {
    await runPendingMigrations(dataSource);
  } catch (error) {
    await dataSource.destroy().catch(() => undefined);
    throw error;
  }
  return dataSource;
}

async function runPendingMigrations(dataSource: DataSource): Promise<void> {
  const runner = dataSource.createQueryRunner();
  try {
    if (databaseKindOf(dataSource) === 'postgres') {
      await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      try {
        await migrate(dataSource, runner);
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
      }
    } else {
      await migrate(dataSource, runner);
    }
  } finally {
    await runner.release();
  }
}

/** Runs what is pending on `runner`'s connection (the one holding the lock), each migration in its own transaction. */
async function migrate(dataSource: DataSource, runner: QueryRunner): Promise<void> {
  const executor = new MigrationExecutor(dataSource, runner);
  executor.transaction = 'each';
  await executor.executePendingMigrations();
}
