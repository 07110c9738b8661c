import { Column, Entity, PrimaryColumn } from 'typeorm';
import { ColumnTypes } from '../../../src/database/migrations/column-types';

/** A test-only entity using each portable column type, to check both databases store and read them alike. */
@Entity({ name: 'test_notes' })
export class Note {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ type: 'varchar', length: 200 })
  text!: string;

  @Column({ type: 'simple-json' })
  details!: { tags: string[]; rank: number; nested: { ok: boolean } };

  @Column({ name: 'written_at', type: Date })
  writtenAt!: Date;

  @Column({ name: 'archived_at', type: Date, nullable: true })
  archivedAt!: Date | null;
}

/** Its table, as a migration of a domain would create it (tests create it after boot instead). */
export function createNotesTableSql(t: ColumnTypes): string {
  return `CREATE TABLE test_notes (
    id varchar(64) PRIMARY KEY,
    text varchar(200) NOT NULL,
    details ${t.json} NOT NULL,
    written_at ${t.timestamp} NOT NULL,
    archived_at ${t.timestamp}
  )`;
}
