import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { CacheService } from '../cache/cache.service';
import { NamespacedCache } from '../cache/namespaced-cache';
import { BadUserInputError, ConflictError, NotFoundError } from '../common/app-errors';
import { isUniqueViolation } from '../database/unique-violation';
import { UnitOfWork } from '../database/unit-of-work';
import { Outbox } from '../outbox/outbox';
import { SettingsSchemaValidator } from '../settings/settings-schema.validator';
import { SettingsService } from '../settings/settings.service';
import { AppEntity } from './app.entity';
import { AppEvents } from './app.events';
import { appCacheKey, AppSnapshot, fromAppSnapshot, toAppSnapshot } from './app.snapshot';
import { AppState, LIFECYCLE, LifecycleStep } from './app-state';
import { RegisterAppInput } from './dto/register-app.input';

/**
 * The app lifecycle: every step changes the row and records its event in one transaction.
 *
 * `findByName` reads through the `apps` cache namespace. Every step drops the
 * app's entry on this instance's L1 and in Redis once committed and before
 * the mutation returns (read-your-writes); every instance drops it again, L1
 * and Redis, when the `app.*` event arrives (AppsCacheInvalidator).
 */
@Injectable()
export class AppsService {
  private readonly cache: NamespacedCache<AppSnapshot>;

  constructor(
    private readonly unitOfWork: UnitOfWork,
    private readonly outbox: Outbox,
    private readonly settings: SettingsService,
    private readonly schemaValidator: SettingsSchemaValidator,
    cache: CacheService,
  ) {
    this.cache = cache.namespace<AppSnapshot>('apps');
  }

  findAll(state?: AppState): Promise<AppEntity[]> {
    return this.unitOfWork.read((manager) => manager.find(AppEntity, { where: state ? { state } : {}, order: { name: 'ASC' } }));
  }

  findById(id: string): Promise<AppEntity | null> {
    return this.unitOfWork.read((manager) => manager.findOneBy(AppEntity, { id }));
  }

  /** The app named `name`, or null; through the cache (an unknown name is cached as "not found" for a short while). */
  async findByName(name: string): Promise<AppEntity | null> {
    const snapshot = await this.cache.getOrLoad(appCacheKey(name), async () => {
      const app = await this.loadByName(name);
      return app && toAppSnapshot(app);
    });
    return snapshot && fromAppSnapshot(snapshot);
  }

  /**
   * Drops the cached app `name` from this instance's L1 and from Redis. Call
   * it after the commit of a change, never inside the transaction (a reader in
   * between would cache the old row again). Never fails (see NamespacedCache).
   */
  dropCachedApp(name: string): Promise<void> {
    return this.cache.invalidate(appCacheKey(name));
  }

  async register(input: RegisterAppInput, actor: string): Promise<AppEntity> {
    const schema = input.settingsSchema ?? null;
    if (schema) {
      const problems = this.schemaValidator.checkSchema(schema, 'input.settingsSchema');
      if (problems.length > 0) throw new BadUserInputError('settingsSchema is not a valid JSON Schema', problems);
    }
    let registered: AppEntity;
    try {
      registered = await this.unitOfWork.run(async (tx) => {
        const existing = await tx.findOneBy(AppEntity, { name: input.name });
        if (existing) throw this.alreadyRegistered(existing);
        const now = new Date();
        const app: AppEntity = {
          id: randomUUID(),
          name: input.name,
          version: input.version,
          state: AppState.REGISTERED,
          installedAt: null,
          createdAt: now,
          updatedAt: now,
        };
        await tx.insert(AppEntity, app);
        await this.outbox.record(tx, AppEvents.REGISTERED, {
          appId: app.id,
          appName: app.name,
          version: app.version,
          registeredAt: now.toISOString(),
        });
        await this.settings.createForApp(tx, app.name, schema, actor);
        return app;
      });
    } catch (error) {
      // Two instances registering one name at once: the unique index decides, the loser gets the same CONFLICT.
      if (isUniqueViolation(error)) {
        // From the database: this instance may still hold a cached "not found" until app.registered arrives.
        const winner = await this.loadByName(input.name);
        if (winner) throw this.alreadyRegistered(winner);
      }
      throw error;
    }
    // Earlier lookups may have cached "not found" for the app and its settings.
    await Promise.all([this.dropCachedApp(registered.name), this.settings.dropCachedSettings(registered.name)]);
    return registered;
  }

  install(name: string): Promise<AppEntity> {
    return this.step(name, 'install');
  }

  uninstall(name: string): Promise<AppEntity> {
    return this.step(name, 'uninstall');
  }

  deregister(name: string): Promise<AppEntity> {
    return this.step(name, 'deregister');
  }

  private async step(name: string, step: LifecycleStep): Promise<AppEntity> {
    const rule = LIFECYCLE[step];
    const changed = await this.unitOfWork.run(async (tx) => {
      const app = await tx.findOneBy(AppEntity, { name });
      if (!app) throw new NotFoundError(`No app named "${name}" is registered`);
      if (!(rule.from as readonly AppState[]).includes(app.state)) {
        throw new ConflictError(`Cannot ${step} "${name}": it is ${app.state} (allowed from ${rule.from.join(' or ')})`, {
          currentState: app.state,
        });
      }
      const now = new Date();
      const changed: AppEntity = { ...app, state: rule.to, updatedAt: now, installedAt: step === 'install' ? now : app.installedAt };
      await this.compareAndSet(tx, app, changed);
      await this.recordStep(tx, step, changed, now);
      return changed;
    });
    // Committed: drop the old state before answering, so this client's next read sees its write.
    await this.dropCachedApp(name);
    return changed;
  }

  /** Straight from the database, bypassing the cache. */
  private loadByName(name: string): Promise<AppEntity | null> {
    return this.unitOfWork.read((manager) => manager.findOneBy(AppEntity, { name }));
  }

  /** Writes `next` only if the row is still in the state we read (another instance may have moved it). */
  private async compareAndSet(tx: EntityManager, read: AppEntity, next: AppEntity): Promise<void> {
    const result = await tx
      .createQueryBuilder()
      .update(AppEntity)
      .set({ state: next.state, updatedAt: next.updatedAt, installedAt: next.installedAt })
      .where('id = :id AND state = :state', { id: read.id, state: read.state })
      .execute();
    if (result.affected === 0) {
      const now = await tx.findOneBy(AppEntity, { id: read.id });
      throw new ConflictError(`"${read.name}" changed while this request ran: it is now ${now?.state}; try again`, {
        currentState: now?.state,
      });
    }
  }

  private async recordStep(tx: EntityManager, step: LifecycleStep, app: AppEntity, at: Date): Promise<void> {
    const base = { appId: app.id, appName: app.name, version: app.version };
    const time = at.toISOString();
    const lastInstall = app.installedAt ? { installedAt: new Date(app.installedAt).toISOString() } : {};
    if (step === 'install') await this.outbox.record(tx, AppEvents.INSTALLED, { ...base, installedAt: time });
    else if (step === 'uninstall') await this.outbox.record(tx, AppEvents.UNINSTALLED, { ...base, uninstalledAt: time, ...lastInstall });
    else await this.outbox.record(tx, AppEvents.DEREGISTERED, { ...base, deregisteredAt: time, ...lastInstall });
  }

  private alreadyRegistered(existing: AppEntity): ConflictError {
    return new ConflictError(`An app named "${existing.name}" is already registered (it is ${existing.state})`, {
      currentState: existing.state,
    });
  }
}
