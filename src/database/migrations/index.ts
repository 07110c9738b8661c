import { MigrationInterface } from 'typeorm';
import { CreateOutboxMessages1795300000000 } from './1795300000000-create-outbox-messages';
import { CreateAppsAndSettings1795300100000 } from './1795300100000-create-apps-and-settings';
import { CreateIdentity1795300200000 } from './1795300200000-create-identity';
import { AddSessionPasswordStamps1795300300000 } from './1795300300000-add-session-password-stamps';

/**
 * Every migration, oldest first; run at boot on PostgreSQL and on the embedded
 * database alike. To change the schema, add `<epoch ms>-<what-it-does>.ts`
 * here (column types per database: ./column-types.ts) and append its class.
 * Never edit a migration that has been committed: add a new one.
 */
export const MIGRATIONS: ReadonlyArray<new () => MigrationInterface> = [
  CreateOutboxMessages1795300000000,
  CreateAppsAndSettings1795300100000,
  CreateIdentity1795300200000,
  AddSessionPasswordStamps1795300300000,
];
