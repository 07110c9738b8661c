import { Injectable } from '@nestjs/common';
import { EnvelopeFor } from '../event-bus/event-envelope';
import { OnEvent } from '../event-bus/on-event.decorator';
import { AppsService } from './apps.service';

/**
 * Drops an app's cache entry on every instance when its state changes
 * anywhere. A broadcast subscription (no group): each instance gets each
 * event once, and the handler is one cache invalidation — cheap, and
 * harmless to repeat on a redelivery or on the instance that made the change
 * (which already dropped the entry before answering).
 *
 * It drops Redis as well as L1: the writer's own Redis invalidation runs
 * after its commit, concurrently with the outbox relay publishing this event,
 * so the event may arrive first. Dropping only L1 here would let the next
 * read take the old value back from Redis and keep it in L1 for its whole TTL.
 */
@Injectable()
export class AppsCacheInvalidator {
  constructor(private readonly apps: AppsService) {}

  @OnEvent('app.*')
  async dropChangedApp(event: EnvelopeFor<'app.*'>): Promise<void> {
    await this.apps.dropCachedApp(event.data.appName);
  }
}
