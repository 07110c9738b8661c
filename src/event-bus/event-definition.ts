import { plainToInstance } from 'class-transformer';
import { ValidationError, validateSync } from 'class-validator';

type PayloadClass<P extends object> = new () => P;

/** One event type, declared once: its name, payload class, schema version and aggregate. */
export interface EventDefinition<T extends string = string, P extends object = object> {
  readonly type: T;
  readonly payload: PayloadClass<P>;
  /** Payload schema version; consumers refuse versions newer than they know. */
  readonly version: number;
  readonly aggregateType: string;
  /** Which payload field identifies the aggregate the event belongs to (used for per-aggregate order). */
  readonly aggregateId: (payload: P) => string;
}

const EVENT_TYPE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

export function defineEvent<const T extends string, P extends object>(definition: EventDefinition<T, P>): EventDefinition<T, P> {
  if (!EVENT_TYPE.test(definition.type)) {
    throw new Error(`Event type "${definition.type}" must be lower-case dot-separated words, e.g. "app.installed"`);
  }
  return Object.freeze(definition);
}

/**
 * Validates a payload against its class's class-validator rules. Returns one
 * line per problem, naming the field path and the rule it breaks.
 */
export function validatePayload(definition: EventDefinition, payload: unknown): string[] {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    return ['data must be an object'];
  }
  const instance = plainToInstance(definition.payload, payload);
  const errors = validateSync(instance, { forbidUnknownValues: true, whitelist: true, forbidNonWhitelisted: true });
  return flattenValidationErrors(errors);
}

export function flattenValidationErrors(errors: ValidationError[], parent = ''): string[] {
  const lines: string[] = [];
  for (const error of errors) {
    const path = parent ? `${parent}.${error.property}` : error.property;
    for (const message of Object.values(error.constraints ?? {})) lines.push(`${path}: ${message}`);
    if (error.children?.length) lines.push(...flattenValidationErrors(error.children, path));
  }
  return lines;
}
