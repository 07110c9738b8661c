import { DataSource } from 'typeorm';

/**
 * Which database AppServer runs on: PostgreSQL (`APPSERVER_DATABASE_URL` set)
 * or the embedded sql.js file. The two differ in concurrency (one shared
 * connection on embedded) and in a few column types; everything else is the same.
 */
export type DatabaseKind = 'postgres' | 'embedded';

export function databaseKindOf(dataSource: DataSource): DatabaseKind {
  return dataSource.options.type === 'postgres' ? 'postgres' : 'embedded';
}
