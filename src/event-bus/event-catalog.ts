import { APP_EVENT_DEFINITIONS } from '../apps/app.events';
import { PERMISSION_EVENT_DEFINITIONS } from '../permissions/permission.events';
import { SESSION_EVENT_DEFINITIONS } from '../sessions/session.events';
import { SETTINGS_EVENT_DEFINITIONS } from '../settings/settings.events';
import { USER_EVENT_DEFINITIONS } from '../users/user.events';
import { EventDefinition, validatePayload } from './event-definition';
import { compilePayloadCheck, isPlainObject, PayloadCheck } from './payload-check';

/**
 * Every event type AppServer knows, gathered from the domains' `*.events.ts`.
 * A domain adds its events there and lists them here; nothing else.
 */
const DEFINITIONS = [
  ...APP_EVENT_DEFINITIONS,
  ...SETTINGS_EVENT_DEFINITIONS,
  ...PERMISSION_EVENT_DEFINITIONS,
  ...USER_EVENT_DEFINITIONS,
  ...SESSION_EVENT_DEFINITIONS,
] as const;

type Definition = (typeof DEFINITIONS)[number];

/** The name of a known event type, e.g. `'app.installed'`. */
export type EventType = Definition['type'];

/** The payload type of each event type. */
export type EventPayloadMap = {
  [D in Definition as D['type']]: D extends EventDefinition<string, infer P> ? P : never;
};

export type EventPayload<T extends EventType> = EventPayloadMap[T];

/**
 * The event types a topic pattern can match, computed by the compiler so a
 * handler for `app.*` receives exactly the union of app events.
 */
export type MatchingEventTypes<P extends string> = P extends EventType
  ? P
  : P extends '#'
    ? EventType
    : P extends `${infer Head}.#`
      ? Extract<EventType, Head | `${Head}.${string}`>
      : P extends `${infer Head}.*`
        ? Extract<EventType, `${Head}.${string}`>
        : P extends `*.${infer Tail}`
          ? Extract<EventType, `${string}.${Tail}`>
          : EventType;

export class EventCatalog {
  private readonly byType: ReadonlyMap<string, EventDefinition>;
  /** Compiled once here, so the hot path never looks up class-validator metadata (see payload-check.ts). */
  private readonly checks: ReadonlyMap<EventDefinition, PayloadCheck>;

  constructor(definitions: readonly EventDefinition<string, any>[]) {
    const byType = new Map<string, EventDefinition>();
    const checks = new Map<EventDefinition, PayloadCheck>();
    for (const definition of definitions) {
      if (byType.has(definition.type)) throw new Error(`Event type "${definition.type}" is declared twice`);
      byType.set(definition.type, definition as EventDefinition);
      const check = compilePayloadCheck(definition.payload);
      if (check) checks.set(definition as EventDefinition, check);
    }
    this.byType = byType;
    this.checks = checks;
  }

  /**
   * What is wrong with `payload` as the payload of `definition`, one line per
   * problem naming the field; empty when it is valid. Valid payloads take the
   * compiled check; anything else gets class-validator's full verdict.
   */
  validatePayload(definition: EventDefinition, payload: unknown): string[] {
    const check = this.checks.get(definition);
    if (check && isPlainObject(payload) && check(payload)) return [];
    return validatePayload(definition, payload);
  }

  get(type: string): EventDefinition | undefined {
    return this.byType.get(type);
  }

  types(): string[] {
    return [...this.byType.keys()];
  }
}

/** The catalog of AppServer's domain events (immutable). */
export const EVENT_CATALOG = new EventCatalog(DEFINITIONS);
