import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { BadUserInputError, FieldProblem, NotFoundError } from '../common/app-errors';
import { EnvelopeFor } from '../event-bus/event-envelope';
import { OnEvent } from '../event-bus/on-event.decorator';
import { UnitOfWork } from '../database/unit-of-work';
import { Outbox } from '../outbox/outbox';
import { AppSettingsEntity, JsonObject } from './app-settings.entity';
import { SettingsEvents } from './settings.events';
import { SettingsSchemaValidator } from './settings-schema.validator';

type UpdateOutcome = { settings: AppSettingsEntity } | { violations: FieldProblem[] };

/** App settings: stored per app, validated against the app's JSON Schema, every change an event. */
@Injectable()
export class SettingsService {
  constructor(
    private readonly unitOfWork: UnitOfWork,
    private readonly outbox: Outbox,
    private readonly validator: SettingsSchemaValidator,
  ) {}

  /** Creates the settings of a newly registered app, inside the registration's transaction. */
  async createForApp(tx: EntityManager, appName: string, schema: JsonObject | null, actor: string): Promise<void> {
    await tx.insert(AppSettingsEntity, { appName, schema, values: {}, version: 1, updatedBy: actor, updatedAt: new Date() });
    if (schema) await this.outbox.record(tx, SettingsEvents.REGISTERED, { appName, version: 1 });
  }

  find(appName: string): Promise<AppSettingsEntity | null> {
    return this.unitOfWork.read((manager) => manager.findOneBy(AppSettingsEntity, { appName }));
  }

  /**
   * Merges `values` into the app's settings. Values breaking the schema change
   * nothing: the caller gets every violation and `settings.validation_failed` is published.
   */
  async update(appName: string, values: Record<string, unknown>, actor: string): Promise<AppSettingsEntity> {
    const outcome = await this.unitOfWork.run(async (tx): Promise<UpdateOutcome> => {
      const current = await tx.findOneBy(AppSettingsEntity, { appName });
      if (!current) throw new NotFoundError(`No app named "${appName}" has settings`);
      const merged = { ...current.values, ...values };
      const violations = current.schema ? this.validator.validate(current.schema, merged) : [];
      if (violations.length > 0) return { violations };

      const changedKeys = Object.keys(values).filter((key) => JSON.stringify(current.values[key]) !== JSON.stringify(values[key]));
      if (changedKeys.length === 0) return { settings: current };
      const next = { ...current, values: merged, version: current.version + 1, updatedBy: actor, updatedAt: new Date() };
      await tx.update(AppSettingsEntity, { appName }, { values: merged, version: next.version, updatedBy: actor, updatedAt: next.updatedAt });
      await this.outbox.record(tx, SettingsEvents.UPDATED, { appName, changedKeys, updatedBy: actor, version: next.version });
      return { settings: next };
    });
    if ('settings' in outcome) return outcome.settings;

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
    await this.unitOfWork.run(async (tx) => {
      const result = await tx.delete(AppSettingsEntity, { appName });
      if ((result.affected ?? 0) > 0) await this.outbox.record(tx, SettingsEvents.DELETED, { appName, reason: 'app deregistered' });
    });
  }
}
