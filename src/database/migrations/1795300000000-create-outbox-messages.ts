import { MigrationInterface, QueryRunner } from 'typeorm';
import { columnTypesFor } from './column-types';

/** The transactional outbox (src/outbox): events committed with the state they describe, until the relay has published them. */
export class CreateOutboxMessages1795300000000 implements MigrationInterface {
  readonly name = 'CreateOutboxMessages1795300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = columnTypesFor(queryRunner);
    await queryRunner.query(`
      CREATE TABLE outbox_messages (
        seq ${t.bigIdentityPrimaryKey},
        event_id ${t.uuid} NOT NULL,
        type varchar(200) NOT NULL,
        aggregate_type varchar(100) NOT NULL,
        aggregate_id varchar(200) NOT NULL,
        envelope ${t.json} NOT NULL,
        created_at ${t.timestamp} NOT NULL DEFAULT ${t.now},
        published_at ${t.timestamp},
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        next_attempt_at ${t.timestamp} NOT NULL DEFAULT ${t.now},
        CONSTRAINT outbox_messages_event_id_unique UNIQUE (event_id)
      )`);
    // The relay reads pending rows in sequence order, and checks an aggregate's earlier pending rows (per-aggregate order).
    await queryRunner.query(`CREATE INDEX outbox_messages_pending ON outbox_messages (seq) WHERE published_at IS NULL`);
    await queryRunner.query(
      `CREATE INDEX outbox_messages_pending_by_aggregate ON outbox_messages (aggregate_type, aggregate_id, seq) WHERE published_at IS NULL`,
    );
    // The retention purge deletes published rows by age.
    await queryRunner.query(`CREATE INDEX outbox_messages_published ON outbox_messages (published_at) WHERE published_at IS NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE outbox_messages`);
  }
}
