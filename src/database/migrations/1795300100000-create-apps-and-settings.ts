import { MigrationInterface, QueryRunner } from 'typeorm';
import { columnTypesFor } from './column-types';

/** The apps domain (src/apps) and the settings domain (src/settings). */
export class CreateAppsAndSettings1795300100000 implements MigrationInterface {
  readonly name = 'CreateAppsAndSettings1795300100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = columnTypesFor(queryRunner);
    await queryRunner.query(`
      CREATE TABLE apps (
        id ${t.uuid} PRIMARY KEY,
        name varchar(200) NOT NULL,
        version varchar(64) NOT NULL,
        state varchar(16) NOT NULL,
        installed_at ${t.timestamp},
        created_at ${t.timestamp} NOT NULL,
        updated_at ${t.timestamp} NOT NULL,
        CONSTRAINT apps_name_unique UNIQUE (name)
      )`);
    await queryRunner.query(`CREATE INDEX apps_state ON apps (state)`);
    await queryRunner.query(`
      CREATE TABLE app_settings (
        app_name varchar(200) PRIMARY KEY,
        schema ${t.json},
        "values" ${t.json} NOT NULL,
        version integer NOT NULL,
        updated_by varchar(200) NOT NULL,
        updated_at ${t.timestamp} NOT NULL
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE app_settings`);
    await queryRunner.query(`DROP TABLE apps`);
  }
}
