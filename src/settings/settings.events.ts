import { Type } from 'class-transformer';
import { ArrayNotEmpty, IsArray, IsInt, IsNotEmpty, IsOptional, IsString, Min, ValidateNested } from 'class-validator';
import { defineEvent } from '../event-bus/event-definition';

/** The events the settings domain publishes, one constant per name. */
export const SettingsEvents = {
  REGISTERED: 'settings.registered',
  UPDATED: 'settings.updated',
  VALIDATION_FAILED: 'settings.validation_failed',
  DELETED: 'settings.deleted',
} as const;

abstract class SettingsPayload {
  @IsString()
  @IsNotEmpty()
  appName!: string;
}

export class SettingsRegisteredPayload extends SettingsPayload {
  @IsInt()
  @Min(1)
  version!: number;
}

export class SettingsUpdatedPayload extends SettingsPayload {
  @IsArray()
  @IsString({ each: true })
  changedKeys!: string[];

  @IsString()
  @IsNotEmpty()
  updatedBy!: string;

  @IsInt()
  @Min(1)
  version!: number;
}

export class SettingsViolation {
  @IsString()
  path!: string;

  @IsString()
  reason!: string;
}

export class SettingsValidationFailedPayload extends SettingsPayload {
  @IsArray()
  @ArrayNotEmpty()
  @ValidateNested({ each: true })
  @Type(() => SettingsViolation)
  violations!: SettingsViolation[];

  @IsString()
  @IsNotEmpty()
  attemptedBy!: string;
}

export class SettingsDeletedPayload extends SettingsPayload {
  @IsOptional()
  @IsString()
  reason?: string;
}

const byAppName = (payload: SettingsPayload) => payload.appName;

export const SETTINGS_EVENT_DEFINITIONS = [
  defineEvent({ type: SettingsEvents.REGISTERED, payload: SettingsRegisteredPayload, version: 1, aggregateType: 'settings', aggregateId: byAppName }),
  defineEvent({ type: SettingsEvents.UPDATED, payload: SettingsUpdatedPayload, version: 1, aggregateType: 'settings', aggregateId: byAppName }),
  defineEvent({ type: SettingsEvents.VALIDATION_FAILED, payload: SettingsValidationFailedPayload, version: 1, aggregateType: 'settings', aggregateId: byAppName }),
  defineEvent({ type: SettingsEvents.DELETED, payload: SettingsDeletedPayload, version: 1, aggregateType: 'settings', aggregateId: byAppName }),
] as const;
