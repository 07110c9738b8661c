import { Injectable } from '@nestjs/common';
import { EnvelopeFor } from '../event-bus/event-envelope';
import { OnEvent } from '../event-bus/on-event.decorator';
import { SettingsService } from './settings.service';

/**
 * Drops an app's cached settings on every instance when they change
 * anywhere. Broadcast subscriptions (no group): each instance gets each
 * event, and each handler is one cache invalidation — cheap, and harmless to
 * repeat on a redelivery or on the instance that made the change (which
 * already dropped the entry before answering).
 *
 * They drop Redis as well as L1: the writer's own Redis invalidation runs
 * after its commit, concurrently with the outbox relay publishing the event,
 * so the event may arrive first. Dropping only L1 here would let the next
 * read take the old value back from Redis and keep it in L1 for its whole TTL.
 */
@Injectable()
export class SettingsCacheInvalidator {
  constructor(private readonly settings: SettingsService) {}

  @OnEvent('settings.updated')
  async dropUpdatedSettings(event: EnvelopeFor<'settings.updated'>): Promise<void> {
    await this.settings.dropCachedSettings(event.data.appName);
  }

  @OnEvent('settings.deleted')
  async dropDeletedSettings(event: EnvelopeFor<'settings.deleted'>): Promise<void> {
    await this.settings.dropCachedSettings(event.data.appName);
  }

  /** An instance that looked the app up before it existed holds a cached "not found" for its settings. */
  @OnEvent('app.registered')
  async dropNotFoundOfRegisteredApp(event: EnvelopeFor<'app.registered'>): Promise<void> {
    await this.settings.dropCachedSettings(event.data.appName);
  }
}
