import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { DatabaseKind } from '../../src/database/database-kind';
import { DatabaseModuleOptions } from '../../src/database/database-module.options';
import { SERVICES } from './services';

const { host, port } = SERVICES.postgres;
/** The maintenance database, to create and drop test databases from (trust auth on dev and CI machines). */
const ADMIN_URL = `postgres://postgres@${host}:${port}/postgres`;

/** A PostgreSQL database of one test file's own. */
export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** Drops it, closing whatever connections are still open. */
  drop(): Promise<void>;
}

async function asAdmin(sql: string): Promise<void> {
  const client = new Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Creates a fresh, empty database `appserver_test_<random>`; the app's migrations build its schema at boot. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `appserver_test_${randomBytes(6).toString('hex')}`;
  await asAdmin(`CREATE DATABASE ${name}`);
  return {
    name,
    url: `postgres://postgres@${host}:${port}/${name}`,
    drop: () => asAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

/** An embedded database file in a fresh temporary folder (the file itself is created by the first commit). */
export interface TestEmbeddedFile {
  readonly file: string;
  remove(): Promise<void>;
}

export async function createEmbeddedTestFile(): Promise<TestEmbeddedFile> {
  const folder = await mkdtemp(join(tmpdir(), 'appserver-test-'));
  return { file: join(folder, 'appserver.sqlite'), remove: () => rm(folder, { recursive: true, force: true }) };
}

/**
 * A fresh database of either kind, for suites that run the same cases on
 * PostgreSQL and on the embedded database.
 */
export interface DatabaseUnderTest {
  readonly kind: DatabaseKind;
  /** Environment for loadConfig: APPSERVER_DATABASE_URL on PostgreSQL, nothing on embedded. */
  readonly env: Record<string, string>;
  /** Options for DatabaseModule.forRoot: the temporary file on embedded. */
  readonly moduleOptions: DatabaseModuleOptions;
  dispose(): Promise<void>;
}

export async function createDatabaseUnderTest(kind: DatabaseKind): Promise<DatabaseUnderTest> {
  if (kind === 'postgres') {
    const database = await createTestDatabase();
    return { kind, env: { APPSERVER_DATABASE_URL: database.url }, moduleOptions: {}, dispose: () => database.drop() };
  }
  const embedded = await createEmbeddedTestFile();
  return { kind, env: {}, moduleOptions: { embeddedFile: embedded.file }, dispose: () => embedded.remove() };
}

/** The two kinds with the services each needs, for `describeWith`. */
export const DATABASE_KINDS: ReadonlyArray<readonly [DatabaseKind, Array<'postgres'>]> = [
  ['embedded', []],
  ['postgres', ['postgres']],
];
