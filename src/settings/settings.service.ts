import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { CacheService } from '../cache/cache.service';
import { NamespacedCache, UpToDate, WriteTicket } from '../cache/namespaced-cache';
import { BadUserInputError, FieldProblem, NotFoundError } from '../common/app-errors';
import { EnvelopeFor } from '../event-bus/event-envelope';
import { OnEvent } from '../event-bus/on-event.decorator';
import { UnitOfWork } from '../database/unit-of-work';
import { Outbox } from '../outbox/outbox';
import { AppSettingsEntity, JsonObject } from './app-settings.entity';
import { AppSettingsSnapshot, fromSettingsSnapshot, settingsCacheKey, toSettingsSnapshot } from './app-settings.snapshot';
import { SettingsEvents } from './settings.events';
import { SettingsSchemaValidator } from './settings-schema.validator';

type UpdateOutcome =
  | { settings: AppSettingsEntity; changed: false }
  | { settings: AppSettingsEntity; changed: true; ticket: WriteTicket }
  | { violations: FieldProblem[] };

/**
 * App settings: stored per app, validated against the app's JSON Schema, every change an event.
 *
 * Reads go through the `settings` cache namespace (L1, then Redis, then the
 * database; an unknown app is cached as "not found" for a short while).
 *
 * An update writes through: once committed, and before the mutation returns,
 * the new settings replace the cached ones in this instance's L1 and in
 * Redis, so the writer reads its own write, and every other instance, when
 * `settings.updated` has dropped its L1 entry (SettingsCacheInvalidator),
 * reads the new settings from Redis rather than each loading them from the
 * database. Versions keep this safe against writers finishing out of order
 * (see NamespacedCache.writeThrough). Creation and deletion only invalidate.
 */
@Injectable()
export class SettingsService {
  private readonly cache: NamespacedCache<AppSettingsSnapshot>;
  /**
   * The entity of each cached snapshot, built on its first read rather than on
   * every read: turning `updatedAt` back into a Date cost an L1 hit more than
   * the lookup itself. Weak: an entity goes when L1 lets its snapshot go.
   */
  private readonly entities = new WeakMap<AppSettingsSnapshot, AppSettingsEntity>();

  constructor(
    private readonly unitOfWork: UnitOfWork,
    private readonly outbox: Outbox,
    private readonly validator: SettingsSchemaValidator,
    cache: CacheService,
  ) {
    this.cache = cache.namespace<AppSettingsSnapshot>('settings');
  }

  /**
   * Creates the settings of a newly registered app, inside the registration's
   * transaction. The registration drops the cached "not found" once committed
   * (`dropCachedSettings`): the caller's transaction is not this service's.
   */
  async createForApp(tx: EntityManager, appName: string, schema: JsonObject | null, actor: string): Promise<void> {
    await tx.insert(AppSettingsEntity, { appName, schema, values: {}, version: 1, updatedBy: actor, updatedAt: new Date() });
    if (schema) await this.outbox.record(tx, SettingsEvents.REGISTERED, { appName, version: 1 });
  }

  /**
   * The app's settings, or null when it has none; through the cache. Read
   * only: every reader of the same cached settings gets the same entity
   * (frozen, though only shallowly: its Date, `values` and `schema` are not).
   * The entity itself, not a promise, when the settings are in L1: the
   * `appSettings` query then awaits nothing here (each promise and `await`
   * costs a request more than the L1 lookup).
   */
  find(appName: string): Readonly<AppSettingsEntity> | null | Promise<Readonly<AppSettingsEntity> | null> {
    const snapshot = this.cache.getOrLoadNow(settingsCacheKey(appName), async () => {
      const settings = await this.unitOfWork.read((manager) => manager.findOneBy(AppSettingsEntity, { appName }));
      return settings && toSettingsSnapshot(settings);
    });
    return snapshot instanceof Promise ? snapshot.then((loaded) => loaded && this.entityOf(loaded)) : snapshot && this.entityOf(snapshot);
  }

  private entityOf(snapshot: AppSettingsSnapshot): Readonly<AppSettingsEntity> {
    let entity = this.entities.get(snapshot);
    if (!entity) {
      entity = Object.freeze(fromSettingsSnapshot(snapshot));
      this.entities.set(snapshot, entity);
    }
    return entity;
  }

  /**
   * Drops the cached settings of `appName` from this instance's L1 and from
   * Redis (for every instance that reads it next). Call it after the commit of
   * a change, never inside the transaction: a reader in between would cache the
   * old row again. Resolves once Redis has it; never fails (see NamespacedCache).
   */
  dropCachedSettings(appName: string): Promise<void> {
    return this.cache.invalidate(settingsCacheKey(appName));
  }

  /** Drops a cached "not found" for `appName` from this instance's L1 and from Redis, and keeps cached settings. */
  dropCachedNotFound(appName: string): Promise<void> {
    return this.cache.invalidateUnlessUpToDate(settingsCacheKey(appName), (cached) => cached !== null);
  }

  /**
   * Drops the cached settings of `appName` from this instance's L1 and from
   * Redis unless they are already `version` or newer — which they are when
   * the writer's write-through got there first. Resolves once Redis has it;
   * never fails.
   */
  dropCachedSettingsOlderThan(appName: string, version: number): Promise<void> {
    return this.cache.invalidateUnlessUpToDate(settingsCacheKey(appName), atLeastVersion(version));
  }

  /**
   * Merges `values` into the app's settings. Values breaking the schema change
   * nothing: the caller gets every violation and `settings.validation_failed` is published.
   */
  async update(appName: string, values: Record<string, unknown>, actor: string): Promise<AppSettingsEntity> {
    const key = settingsCacheKey(appName);
    // The write-through needs it from before the commit. Asked for alongside the transaction's start (one round
    // trip each, at once), and awaited before the row lock, so Redis never holds the lock up. Never fails.
    const pendingTicket = this.cache.writeTicket(key);
    const outcome = await this.unitOfWork.run(async (tx): Promise<UpdateOutcome> => {
      const ticket = await pendingTicket;
      // Locked (PostgreSQL) until the commit: concurrent updates of one app take turns, each merging into the
      // last one's values under the next version. The embedded database runs one transaction at a time anyway.
      const current = await tx.findOne(AppSettingsEntity, {
        where: { appName },
        ...(this.unitOfWork.kind === 'postgres' ? { lock: { mode: 'pessimistic_write' as const } } : {}),
      });
      if (!current) throw new NotFoundError(`No app named "${appName}" has settings`);
      const merged = { ...current.values, ...values };
      const violations = current.schema ? this.validator.validate(current.schema, merged) : [];
      if (violations.length > 0) return { violations };

      const changedKeys = Object.keys(values).filter((key) => JSON.stringify(current.values[key]) !== JSON.stringify(values[key]));
      if (changedKeys.length === 0) return { settings: current, changed: false };
      const next = { ...current, values: merged, version: current.version + 1, updatedBy: actor, updatedAt: new Date() };
      await tx.update(AppSettingsEntity, { appName }, { values: merged, version: next.version, updatedBy: actor, updatedAt: next.updatedAt });
      await this.outbox.record(tx, SettingsEvents.UPDATED, { appName, changedKeys, updatedBy: actor, version: next.version });
      return { settings: next, changed: true, ticket };
    });
    if ('settings' in outcome) {
      // Committed: store the new settings before answering, so this client's next read sees its write.
      if (outcome.changed) {
        const { settings, ticket } = outcome;
        await this.cache.writeThrough(key, toSettingsSnapshot(settings), ticket, atLeastVersion(settings.version));
      }
      return outcome.settings;
    }

    // The refusal is an event too (audit, notifications); it commits on its own, with nothing else.
    await this.unitOfWork.run((tx) =>
      this.outbox.record(tx, SettingsEvents.VALIDATION_FAILED, {
        appName,
        violations: outcome.violations.map(({ field, reason }) => ({ path: field, reason })),
        attemptedBy: actor,
      }),
    );
    throw new BadUserInputError(
      `The settings of "${appName}" break its schema: ${outcome.violations.map((v) => `${v.field} ${v.reason}`).join('; ')}`,
      outcome.violations,
    );
  }

  /** Reacts to a deregistration anywhere: once per event across instances, and a redelivery finds nothing left to delete. */
  @OnEvent('app.deregistered', { group: 'settings.delete-on-deregister' })
  async deleteSettingsOfDeregisteredApp(event: EnvelopeFor<'app.deregistered'>): Promise<void> {
    const { appName } = event.data;
    const deleted = await this.unitOfWork.run(async (tx) => {
      const result = await tx.delete(AppSettingsEntity, { appName });
      if ((result.affected ?? 0) === 0) return false;
      await this.outbox.record(tx, SettingsEvents.DELETED, { appName, reason: 'app deregistered' });
      return true;
    });
    // Dropped here at once; every instance drops it again when settings.deleted arrives.
    if (deleted) await this.dropCachedSettings(appName);
  }
}

/**
 * Whether cached settings are `version` or newer; a cached "not found" never
 * is. Versions of one app's settings are unique and grow in commit order (the
 * row is locked for each update, and an app name is never registered twice:
 * a deregistered app keeps its row), as writeThrough requires.
 */
function atLeastVersion(version: number): UpToDate<AppSettingsSnapshot> {
  return (cached) => cached !== null && cached.version >= version;
}
