import { Injectable } from '@nestjs/common';
import { EnvelopeFor } from '../event-bus/event-envelope';
import { OnEvent } from '../event-bus/on-event.decorator';
import { SessionCache } from './session-cache';

/**
 * Drops cached session states on every instance when a session ends or its
 * user changes anywhere, so a revoked token is refused by every instance as
 * soon as the event arrives (the instance that ended it refused it already:
 * the writer drops the entry before answering). Broadcast subscriptions (no
 * group): each instance gets each event, and each handler is one cache
 * invalidation — cheap, and harmless to repeat on a redelivery or on the
 * writing instance.
 *
 * They drop Redis as well as L1: the writer's own Redis invalidation runs
 * after its commit, concurrently with the outbox relay publishing the event,
 * so the event may arrive first. Dropping only L1 here would let the next
 * request take the still-open session back from Redis and keep it in L1 for
 * its whole TTL — a revoked token accepted for up to a minute.
 *
 * Token entries (`token:<hash>` → which session) are never dropped: they
 * cannot go stale, and no event could name them (events never carry a token).
 */
@Injectable()
export class SessionsCacheInvalidator {
  constructor(private readonly cache: SessionCache) {}

  @OnEvent('session.revoked')
  async dropRevokedSession(event: EnvelopeFor<'session.revoked'>): Promise<void> {
    await this.cache.dropSession(event.data.userId, event.data.sessionId);
  }

  @OnEvent('session.expired')
  async dropExpiredSession(event: EnvelopeFor<'session.expired'>): Promise<void> {
    await this.cache.dropSession(event.data.userId, event.data.sessionId);
  }

  /** The principal carries the user's email and role: any change to the user drops all their sessions' states. */
  @OnEvent('user.updated')
  async dropSessionsOfUpdatedUser(event: EnvelopeFor<'user.updated'>): Promise<void> {
    await this.cache.dropSessionsOfUser(event.data.userId);
  }

  /** A deleted user's sessions are refused from here on (their states would load as null without the user row). */
  @OnEvent('user.deleted')
  async dropSessionsOfDeletedUser(event: EnvelopeFor<'user.deleted'>): Promise<void> {
    await this.cache.dropSessionsOfUser(event.data.userId);
  }
}
