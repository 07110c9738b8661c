import { Injectable } from '@nestjs/common';
import { UnitOfWork } from '../database/unit-of-work';
import { AnyEventEnvelope, EnvelopeFor } from '../event-bus/event-envelope';
import { OnEvent } from '../event-bus/on-event.decorator';
import { AuditEntryEntity } from './audit-entry.entity';
import { describeForAudit } from './audited-events';

/**
 * The audit log: a group subscriber on every event (one queue, each event
 * handled once across instances, durable across restarts) that keeps the
 * sensitive ones. Idempotent by event id: a redelivered event hits the unique
 * key and is ignored.
 */
@Injectable()
export class AuditLogService {
  constructor(private readonly unitOfWork: UnitOfWork) {}

  @OnEvent('#', { group: 'audit-log' })
  async recordSensitiveEvent(event: EnvelopeFor<'#'>): Promise<void> {
    const description = describeForAudit(event as AnyEventEnvelope);
    if (!description) return;
    await this.unitOfWork.run((tx) =>
      tx
        .createQueryBuilder()
        .insert()
        .into(AuditEntryEntity)
        .values({
          eventId: event.id,
          eventType: event.type,
          actor: description.actor,
          target: description.target,
          summary: description.summary,
          details: event.data as never,
          correlationId: event.correlationId,
          occurredAt: new Date(event.time),
        })
        .orIgnore()
        .updateEntity(false)
        .execute(),
    );
  }

  /** The newest `limit` entries, newest first. */
  latest(limit: number): Promise<AuditEntryEntity[]> {
    return this.unitOfWork.read((manager) => manager.find(AuditEntryEntity, { order: { seq: 'DESC' }, take: limit }));
  }
}
