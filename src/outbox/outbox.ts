import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { UnitOfWork } from '../database/unit-of-work';
import { EventBus, PublishOptions } from '../event-bus/event-bus';
import { EventPayload, EventType } from '../event-bus/event-catalog';
import { AnyEventEnvelope, EnvelopeOf } from '../event-bus/event-envelope';
import { OutboxMessageRepository } from './outbox-message.repository';
import { OutboxRelay } from './outbox-relay';

/**
 * How domain services publish: `record` stores the event in the caller's
 * transaction, so it commits with the state change or not at all, and the
 * relay publishes it once committed. Domain code never publishes directly.
 *
 *   await unitOfWork.run(async (tx) => {
 *     await tx.update(AppEntity, { id }, { state: 'INSTALLED' });
 *     await outbox.record(tx, AppEvents.INSTALLED, payload);
 *   });
 *
 * Record an aggregate's event after the write that changes the aggregate's
 * row: that write's row lock orders concurrent transactions on the aggregate,
 * and so their events' sequence, which is the order the relay publishes in.
 */
@Injectable()
export class Outbox {
  constructor(
    private readonly bus: EventBus,
    private readonly unitOfWork: UnitOfWork,
    private readonly messages: OutboxMessageRepository,
    private readonly relay: OutboxRelay,
  ) {}

  /**
   * Validates the payload and builds the envelope (ids from the current request
   * or handled event, as `EventBus.publish` would), then inserts it in `tx`.
   * `tx` must be the manager of an open `UnitOfWork.run`.
   */
  async record<T extends EventType>(tx: EntityManager, type: T, payload: EventPayload<T>, options?: PublishOptions): Promise<EnvelopeOf<T>> {
    const envelope = this.bus.createEnvelope(type, payload, options);
    // Checked before the insert: an event recorded outside a unit of work would commit on its own.
    this.unitOfWork.afterCommit(tx, () => this.relay.wake());
    await this.messages.insert(tx, envelope as AnyEventEnvelope, new Date());
    return envelope;
  }
}
