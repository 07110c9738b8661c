import { Injectable } from '@nestjs/common';
import { EnvelopeFor } from '../event-bus/event-envelope';
import { OnEvent } from '../event-bus/on-event.decorator';
import { UsersService } from './users.service';

/**
 * Drops a user's cache entry on every instance when the user changes or is
 * deleted anywhere. Broadcast subscriptions (no group): each instance gets
 * each event, and each handler is one cache invalidation — cheap, and
 * harmless to repeat on a redelivery or on the instance that made the change
 * (which dropped the entry before answering). Their sessions and grants are
 * dropped by SessionsCacheInvalidator and PermissionsCacheInvalidator.
 *
 * Redis is dropped as well as L1: the writer's own Redis invalidation runs
 * after its commit, concurrently with the outbox relay publishing the event,
 * so the event may arrive first; dropping only L1 would let the next read take
 * the old user back from Redis and keep it in L1 for its whole TTL.
 */
@Injectable()
export class UsersCacheInvalidator {
  constructor(private readonly users: UsersService) {}

  @OnEvent('user.updated')
  async dropUpdatedUser(event: EnvelopeFor<'user.updated'>): Promise<void> {
    await this.users.dropCachedUser(event.data.userId);
  }

  @OnEvent('user.deleted')
  async dropDeletedUser(event: EnvelopeFor<'user.deleted'>): Promise<void> {
    await this.users.dropCachedUser(event.data.userId);
  }
}
