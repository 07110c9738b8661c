import { MigrationInterface, QueryRunner } from 'typeorm';
import { columnTypesFor } from './column-types';

/** Identity and access: users (src/users), sessions (src/sessions), permission grants (src/permissions) and the audit log (src/audit). */
export class CreateIdentity1795300200000 implements MigrationInterface {
  readonly name = 'CreateIdentity1795300200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = columnTypesFor(queryRunner);
    // Emails are stored normalized (trimmed, lower case): the unique constraint is what keeps them unique,
    // also between instances creating the first admin at the same moment.
    await queryRunner.query(`
      CREATE TABLE users (
        id ${t.uuid} PRIMARY KEY,
        email varchar(254) NOT NULL,
        display_name varchar(200),
        role varchar(16) NOT NULL,
        password_hash varchar(255) NOT NULL,
        created_at ${t.timestamp} NOT NULL,
        updated_at ${t.timestamp} NOT NULL,
        CONSTRAINT users_email_unique UNIQUE (email)
      )`);
    // No foreign key to users: a session row outlives its user as a record of what happened to it.
    await queryRunner.query(`
      CREATE TABLE sessions (
        id ${t.uuid} PRIMARY KEY,
        user_id ${t.uuid} NOT NULL,
        token_hash varchar(64) NOT NULL,
        created_at ${t.timestamp} NOT NULL,
        expires_at ${t.timestamp} NOT NULL,
        ended_at ${t.timestamp},
        end_reason varchar(16),
        ended_by varchar(200),
        CONSTRAINT sessions_token_hash_unique UNIQUE (token_hash)
      )`);
    // The open sessions of a user (revocation on user deletion, listing) and those due to expire (the sweeper).
    await queryRunner.query(`CREATE INDEX sessions_open_by_user ON sessions (user_id) WHERE ended_at IS NULL`);
    await queryRunner.query(`CREATE INDEX sessions_open_by_expiry ON sessions (expires_at) WHERE ended_at IS NULL`);
    // The unique key leads with the subject, so it also serves "all grants of one subject" (the checker's only query).
    await queryRunner.query(`
      CREATE TABLE permission_grants (
        id ${t.uuid} PRIMARY KEY,
        subject_type varchar(8) NOT NULL,
        subject varchar(200) NOT NULL,
        action varchar(200) NOT NULL,
        resource varchar(200) NOT NULL,
        granted_by varchar(200) NOT NULL,
        granted_at ${t.timestamp} NOT NULL,
        CONSTRAINT permission_grants_unique UNIQUE (subject_type, subject, action, resource)
      )`);
    // One row per audited event: the unique event id makes a redelivered event a no-op.
    await queryRunner.query(`
      CREATE TABLE audit_log (
        seq ${t.bigIdentityPrimaryKey},
        event_id ${t.uuid} NOT NULL,
        event_type varchar(200) NOT NULL,
        actor varchar(200),
        target varchar(300) NOT NULL,
        summary text NOT NULL,
        details ${t.json} NOT NULL,
        correlation_id varchar(200) NOT NULL,
        occurred_at ${t.timestamp} NOT NULL,
        recorded_at ${t.timestamp} NOT NULL DEFAULT ${t.now},
        CONSTRAINT audit_log_event_id_unique UNIQUE (event_id)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE audit_log`);
    await queryRunner.query(`DROP TABLE permission_grants`);
    await queryRunner.query(`DROP TABLE sessions`);
    await queryRunner.query(`DROP TABLE users`);
  }
}
