import { AppEntity } from './app.entity';
import { AppState } from './app-state';

/**
 * An app as the `apps` cache namespace holds it: a plain object that survives
 * JSON unchanged, so L1 and Redis hand out the same thing. Dates are ISO
 * strings here and become Dates again in `fromAppSnapshot`.
 */
export interface AppSnapshot {
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly state: AppState;
  readonly installedAt: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/**
 * The cache key of an app looked up by name. Apps are keyed by name because
 * that is how clients ask for them (`app(name:)`) and what every `app.*` event
 * carries, so any instance can drop the entry from the event alone.
 */
export function appCacheKey(name: string): string {
  return `name:${name}`;
}

export function toAppSnapshot(app: AppEntity): AppSnapshot {
  return {
    id: app.id,
    name: app.name,
    version: app.version,
    state: app.state,
    installedAt: app.installedAt?.toISOString() ?? null,
    createdAt: app.createdAt.toISOString(),
    updatedAt: app.updatedAt.toISOString(),
  };
}

/** A new entity each call: callers may change it without touching the cached snapshot. */
export function fromAppSnapshot(snapshot: AppSnapshot): AppEntity {
  return {
    id: snapshot.id,
    name: snapshot.name,
    version: snapshot.version,
    state: snapshot.state,
    installedAt: snapshot.installedAt === null ? null : new Date(snapshot.installedAt),
    createdAt: new Date(snapshot.createdAt),
    updatedAt: new Date(snapshot.updatedAt),
  };
}
