import { EventPayload, EventType, MatchingEventTypes } from './event-catalog';

/**
 * The envelope every event travels in, aligned with CloudEvents 1.0
 * (structured mode: the whole envelope is the JSON body).
 */
export interface EventEnvelope<T extends string = string, P = unknown> {
  /** Unique id; a UUIDv7, so ids sort by creation time. */
  readonly id: string;
  readonly type: T;
  /** `appserver/<instanceId>` or the publishing app. */
  readonly source: string;
  readonly specversion: '1.0';
  /** ISO-8601 time the event was created. */
  readonly time: string;
  readonly datacontenttype: 'application/json';
  readonly aggregateId: string;
  readonly aggregateType: string;
  /** Payload schema version. */
  readonly version: number;
  /** Shared by every event caused, directly or not, by one request. */
  readonly correlationId: string;
  /** Id of the event whose handler published this one, if any. */
  readonly causationId: string | null;
  readonly sourceAppId: string | null;
  readonly sourceAppName: string | null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly data: P;
}

export type EnvelopeOf<T extends EventType> = EventEnvelope<T, EventPayload<T>>;

/** Any known event, discriminated by `type`. */
export type AnyEventEnvelope = { [T in EventType]: EnvelopeOf<T> }[EventType];

/** What a handler subscribed to `pattern` receives. */
export type EnvelopeFor<P extends string> = { [T in MatchingEventTypes<P>]: EnvelopeOf<T> }[MatchingEventTypes<P>];

const BUS_STRING_FIELDS = ['id', 'type', 'source', 'time', 'aggregateType'] as const;
const CALLER_STRING_FIELDS = ['aggregateId', 'correlationId'] as const;
const NULLABLE_STRING_FIELDS = ['causationId', 'sourceAppId', 'sourceAppName'] as const;

/** Checks the envelope's own fields (not the payload); returns one line per problem. */
export function checkEnvelopeShape(value: unknown): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return ['envelope must be a JSON object'];
  const envelope = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const field of BUS_STRING_FIELDS) {
    if (typeof envelope[field] !== 'string' || (envelope[field] as string).length === 0) problems.push(`${field} must be a non-empty string`);
  }
  if (envelope.specversion !== '1.0') problems.push('specversion must be "1.0"');
  if (envelope.datacontenttype !== 'application/json') problems.push('datacontenttype must be "application/json"');
  if (!Number.isInteger(envelope.version) || (envelope.version as number) < 1) problems.push('version must be a positive integer');
  if (typeof envelope.time === 'string' && Number.isNaN(Date.parse(envelope.time))) problems.push('time must be an ISO-8601 date-time');
  problems.push(...checkCallerFields(envelope));
  return problems;
}

/**
 * Checks the envelope fields that publish options (and the context) fill: the
 * bus builds the others itself, so `createEnvelope` checks only these.
 */
export function checkCallerFields(value: object): string[] {
  const envelope = value as Readonly<Record<string, unknown>>;
  const problems: string[] = [];
  for (const field of CALLER_STRING_FIELDS) {
    if (typeof envelope[field] !== 'string' || (envelope[field] as string).length === 0) problems.push(`${field} must be a non-empty string`);
  }
  for (const field of NULLABLE_STRING_FIELDS) {
    if (envelope[field] != null && typeof envelope[field] !== 'string') problems.push(`${field} must be a string or null`);
  }
  const metadata = envelope.metadata;
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
    problems.push('metadata must be an object');
  } else if (Object.values(metadata).some((v) => typeof v !== 'string')) {
    problems.push('metadata values must be strings');
  }
  if (envelope.data === null || typeof envelope.data !== 'object' || Array.isArray(envelope.data)) problems.push('data must be an object');
  return problems;
}

/**
 * A frozen copy of `value` as it would come out of a JSON round trip: what a
 * handler sees is the same whether the event crossed RabbitMQ or stayed in the
 * process, and no handler can change what another one (or the publisher) sees.
 */
export function frozenJsonCopy<T>(value: T): T {
  if (value === null || typeof value !== 'object') {
    return (typeof value === 'number' && !Number.isFinite(value) ? null : value) as T;
  }
  if (Array.isArray(value)) {
    // An index loop, not map(): JSON turns holes into null, map() would keep them.
    const items: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      items[i] = item === undefined || typeof item === 'function' ? null : frozenJsonCopy(item);
    }
    return Object.freeze(items) as T;
  }
  const prototype = Object.getPrototypeOf(value);
  if ((prototype !== Object.prototype && prototype !== null) || typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    // Class instances, Dates and anything with toJSON: let JSON say what they become.
    return deepFreeze(JSON.parse(JSON.stringify(value)));
  }
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[key];
    if (item === undefined || typeof item === 'function') continue;
    // As JSON.parse does: "__proto__" becomes an own property, never the copy's prototype.
    if (key === '__proto__') Object.defineProperty(copy, key, { value: frozenJsonCopy(item), enumerable: true, writable: true, configurable: true });
    else copy[key] = frozenJsonCopy(item);
  }
  return Object.freeze(copy) as T;
}

/** Freezes a parsed JSON value in place, all the way down. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
