import { Column, Entity, Generated, PrimaryColumn } from 'typeorm';
import { BIGINT_AS_NUMBER } from '../database/column-transformers';
import { AnyEventEnvelope } from '../event-bus/event-envelope';

/**
 * One event waiting in the outbox (table created by the migration
 * CreateOutboxMessages). It commits with the state change it describes and
 * stays until the relay has published it and the retention period has passed.
 */
@Entity({ name: 'outbox_messages' })
export class OutboxMessage {
  /** Commit-time order of events; the relay publishes in this order. */
  @PrimaryColumn({ type: 'bigint', transformer: BIGINT_AS_NUMBER })
  @Generated('increment')
  seq!: number;

  @Column({ name: 'event_id', type: 'varchar', length: 36 })
  eventId!: string;

  @Column({ type: 'varchar', length: 200 })
  type!: string;

  @Column({ name: 'aggregate_type', type: 'varchar', length: 100 })
  aggregateType!: string;

  @Column({ name: 'aggregate_id', type: 'varchar', length: 200 })
  aggregateId!: string;

  /** The whole CloudEvents envelope, built and validated when the event was recorded. */
  @Column({ type: 'simple-json' })
  envelope!: AnyEventEnvelope;

  @Column({ name: 'created_at', type: Date })
  createdAt!: Date;

  /** Set once the broker has confirmed the event; null while it waits. */
  @Column({ name: 'published_at', type: Date, nullable: true })
  publishedAt!: Date | null;

  /** Failed publish attempts so far. */
  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  /** Not published before this time (the backoff after a failure). */
  @Column({ name: 'next_attempt_at', type: Date })
  nextAttemptAt!: Date;
}
