import { IsISO8601, IsNotEmpty, IsOptional, IsString, IsUUID, Matches } from 'class-validator';
import { defineEvent } from '../event-bus/event-definition';

/** The events the apps domain publishes, one constant per name. */
export const AppEvents = {
  REGISTERED: 'app.registered',
  INSTALLED: 'app.installed',
  UNINSTALLED: 'app.uninstalled',
  DEREGISTERED: 'app.deregistered',
} as const;

const SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

abstract class AppLifecyclePayload {
  @IsUUID()
  appId!: string;

  @IsString()
  @IsNotEmpty()
  appName!: string;

  @Matches(SEMVER, { message: 'version must be a semantic version such as 1.2.3' })
  version!: string;
}

export class AppRegisteredPayload extends AppLifecyclePayload {
  @IsISO8601()
  registeredAt!: string;
}

export class AppInstalledPayload extends AppLifecyclePayload {
  @IsISO8601()
  installedAt!: string;
}

export class AppUninstalledPayload extends AppLifecyclePayload {
  @IsISO8601()
  uninstalledAt!: string;

  /** When the app was last installed, so consumers need not read the row (which may have moved on). */
  @IsOptional()
  @IsISO8601()
  installedAt?: string;
}

export class AppDeregisteredPayload extends AppLifecyclePayload {
  @IsISO8601()
  deregisteredAt!: string;

  /** When the app was last installed; absent if it never was. */
  @IsOptional()
  @IsISO8601()
  installedAt?: string;
}

const byAppId = (payload: AppLifecyclePayload) => payload.appId;

export const APP_EVENT_DEFINITIONS = [
  defineEvent({ type: AppEvents.REGISTERED, payload: AppRegisteredPayload, version: 1, aggregateType: 'app', aggregateId: byAppId }),
  defineEvent({ type: AppEvents.INSTALLED, payload: AppInstalledPayload, version: 1, aggregateType: 'app', aggregateId: byAppId }),
  defineEvent({ type: AppEvents.UNINSTALLED, payload: AppUninstalledPayload, version: 1, aggregateType: 'app', aggregateId: byAppId }),
  defineEvent({ type: AppEvents.DEREGISTERED, payload: AppDeregisteredPayload, version: 1, aggregateType: 'app', aggregateId: byAppId }),
] as const;
