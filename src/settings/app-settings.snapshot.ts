import { AppSettingsEntity, JsonObject } from './app-settings.entity';

/**
 * An app's settings as the `settings` cache namespace holds them: plain JSON,
 * so L1 and Redis hand out the same thing; `updatedAt` is an ISO string here
 * and a Date again in `fromSettingsSnapshot`.
 */
export interface AppSettingsSnapshot {
  readonly appName: string;
  readonly schema: JsonObject | null;
  readonly values: JsonObject;
  readonly version: number;
  readonly updatedBy: string;
  readonly updatedAt: string;
}

/** The cache key of an app's settings; every settings event and `app.registered` carry the app name. */
export function settingsCacheKey(appName: string): string {
  return `app:${appName}`;
}

export function toSettingsSnapshot(settings: AppSettingsEntity): AppSettingsSnapshot {
  return {
    appName: settings.appName,
    schema: settings.schema,
    values: settings.values,
    version: settings.version,
    updatedBy: settings.updatedBy,
    updatedAt: settings.updatedAt.toISOString(),
  };
}

/**
 * A new entity each call. `values` and `schema` are the cached objects
 * themselves, shared with every other reader of this instance's L1: read
 * them, never change them in place (copy first, as `update` does).
 * SettingsService builds one per cached snapshot and shares it.
 */
export function fromSettingsSnapshot(snapshot: AppSettingsSnapshot): AppSettingsEntity {
  return {
    appName: snapshot.appName,
    schema: snapshot.schema,
    values: snapshot.values,
    version: snapshot.version,
    updatedBy: snapshot.updatedBy,
    updatedAt: new Date(snapshot.updatedAt),
  };
}
