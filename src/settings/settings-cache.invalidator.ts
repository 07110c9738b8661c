import { Injectable } from '@nestjs/common';
import { EnvelopeFor } from '../event-bus/event-envelope';
import { OnEvent } from '../event-bus/on-event.decorator';
import { SettingsService } from './settings.service';

/**
 * Drops an app's cached settings on every instance when they change
 * anywhere. Broadcast subscriptions (no group): each instance gets each
 * event, and each handler costs one Redis read and, when the entry is
 * outdated, one invalidation — cheap, and harmless to repeat on a
 * redelivery or on the instance that made the change.
 *
 * They look at Redis as well as L1: the writer's own Redis write runs after
 * its commit, concurrently with the outbox relay publishing the event, so the
 * event may arrive first. Dropping only L1 here would let the next read take
 * the old value back from Redis and keep it in L1 for its whole TTL.
 */
@Injectable()
export class SettingsCacheInvalidator {
  constructor(private readonly settings: SettingsService) {}

  /** The writer stored the new settings in Redis (write-through): only what is older than them goes. */
  @OnEvent('settings.updated')
  async dropUpdatedSettings(event: EnvelopeFor<'settings.updated'>): Promise<void> {
    await this.settings.dropCachedSettingsOlderThan(event.data.appName, event.data.version);
  }

  @OnEvent('settings.deleted')
  async dropDeletedSettings(event: EnvelopeFor<'settings.deleted'>): Promise<void> {
    await this.settings.dropCachedSettings(event.data.appName);
  }

  /**
   * An instance that looked the app up before it existed holds a cached "not
   * found" for its settings. Settings cached since are the new app's (a name
   * is never registered twice), and stay: the event often arrives after a
   * first update has stored them.
   */
  @OnEvent('app.registered')
  async dropNotFoundOfRegisteredApp(event: EnvelopeFor<'app.registered'>): Promise<void> {
    await this.settings.dropCachedNotFound(event.data.appName);
  }
}
