import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each session remembers which password opened it (a stamp derived from the
 * password hash, see src/sessions/password-stamp.ts): a password change ends
 * the sessions opened with an older one, whatever the instances' clocks say.
 * Sessions from before this migration have none, and count as older.
 */
export class AddSessionPasswordStamps1795300300000 implements MigrationInterface {
  readonly name = 'AddSessionPasswordStamps1795300300000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE sessions ADD COLUMN password_stamp varchar(64)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE sessions DROP COLUMN password_stamp`);
  }
}
