import { Injectable } from '@nestjs/common';
import { EnvelopeFor } from '../event-bus/event-envelope';
import { OnEvent } from '../event-bus/on-event.decorator';
import { CachingGrantLoader } from './caching-grant.loader';

/**
 * Drops cached grants on every instance when `permission.invalidate` arrives
 * from any of them: the pattern it carries (`user:<id>:*`, `app:<name>:*`),
 * from L1 and in Redis. A broadcast subscription (no group): each instance
 * gets each event, and the handler is one pattern invalidation — cheap (one
 * Redis SET of a prefix generation; a scan of this instance's L1 only), and
 * harmless to repeat on a redelivery or on the instance that made the change.
 *
 * Redis is dropped here too, not only L1: the writer's own Redis invalidation
 * runs after its commit, concurrently with the outbox relay publishing the
 * event, so the event may arrive first; dropping only L1 would let the next
 * check take the old grants back from Redis and keep them for a whole L1 TTL.
 * A pattern wider than needed (an app may publish this event too, if granted)
 * only costs reloads: invalidation never makes an answer wrong.
 */
@Injectable()
export class PermissionsCacheInvalidator {
  constructor(private readonly grants: CachingGrantLoader) {}

  @OnEvent('permission.invalidate')
  async dropInvalidatedGrants(event: EnvelopeFor<'permission.invalidate'>): Promise<void> {
    await this.grants.dropCached(event.data.pattern);
  }
}
