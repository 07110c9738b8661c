import { Column, Entity, Generated, PrimaryColumn } from 'typeorm';
import { BIGINT_AS_NUMBER } from '../database/column-transformers';

/** A row of `audit_log`: one sensitive event, described for people, recorded once (unique event id). */
@Entity('audit_log')
export class AuditEntryEntity {
  /** Recording order; the log lists newest first by it. */
  @PrimaryColumn({ type: 'bigint', transformer: BIGINT_AS_NUMBER })
  @Generated('increment')
  seq!: number;

  @Column({ name: 'event_id', type: 'varchar', length: 36, unique: true })
  eventId!: string;

  @Column({ name: 'event_type', type: 'varchar', length: 200 })
  eventType!: string;

  /** Who did it (a user id, `app:<name>` or `system`); null when the event does not say. */
  @Column({ type: 'varchar', length: 200, nullable: true })
  actor!: string | null;

  /** What it was done to, e.g. `user:<id>`, `session:<id>`, `app:<name>`. */
  @Column({ type: 'varchar', length: 300 })
  target!: string;

  @Column({ type: 'text' })
  summary!: string;

  /** The event's payload (events never carry secrets, so it is safe to keep). */
  @Column({ type: 'simple-json' })
  details!: Record<string, unknown>;

  @Column({ name: 'correlation_id', type: 'varchar', length: 200 })
  correlationId!: string;

  @Column({ name: 'occurred_at', type: Date })
  occurredAt!: Date;
}
