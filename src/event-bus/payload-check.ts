import { TransformationType } from 'class-transformer';
import { defaultMetadataStorage } from 'class-transformer/cjs/storage';
import { getMetadataStorage, ValidationArguments, ValidationTypes } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';

/**
 * Answers "is this payload valid?" for one payload class, fast.
 *
 * Why: `plainToInstance` + `validateSync` cost about 7 µs per payload, more than
 * the rest of an in-memory publish, and they run on every publish and consume.
 * Valid payloads are the hot path, so each class is compiled once, at catalog
 * construction, into a function that calls the very constraint functions
 * class-validator would call, on the plain object, without the transformer, the
 * error objects or the metadata lookups.
 *
 * The check is only ever trusted when it says "valid". `false` means "not sure"
 * and sends the payload through class-validator itself, which gives the
 * verdict and the messages. A class using anything this compiler does not
 * model (async or promise validation, groups, class-transformer's
 * expose/exclude/transform, discriminators, Sets and Maps) compiles to
 * `undefined`: always class-validator.
 */
export type PayloadCheck = (payload: object) => boolean;

type ValueCheck = (value: unknown, owner: Record<string, unknown>) => boolean;

interface PropertyRule {
  readonly name: string;
  readonly check: ValueCheck;
}

export function compilePayloadCheck(payloadClass: new () => object): PayloadCheck | undefined {
  return compileClass(payloadClass, new Set());
}

function compileClass(target: new () => object, compiling: Set<Function>): PayloadCheck | undefined {
  // Self-referencing classes would recurse forever; leave them to class-validator.
  if (compiling.has(target)) return undefined;
  if (usesTransformerFeatures(target)) return undefined;
  const metadatas = getMetadataStorage().getTargetValidationMetadatas(target, '', false, false);
  // With forbidUnknownValues, a class without rules is an error: nothing to accept.
  if (metadatas.length === 0) return undefined;
  // plainToInstance starts from `new target()`: initialised fields would be checked (or refused) where the plain object has nothing.
  if (hasInitialisedFields(target)) return undefined;
  if (metadatas.some((m) => (m.groups?.length ?? 0) > 0 || m.always !== undefined)) return undefined;

  const byProperty = new Map<string, ValidationMetadata[]>();
  for (const metadata of metadatas) {
    const list = byProperty.get(metadata.propertyName) ?? [];
    list.push(metadata);
    byProperty.set(metadata.propertyName, list);
  }

  compiling.add(target);
  const rules: PropertyRule[] = [];
  try {
    for (const [name, list] of byProperty) {
      const check = compileProperty(target, name, list, compiling);
      if (!check) return undefined;
      rules.push({ name, check });
    }
  } finally {
    compiling.delete(target);
  }

  const known = new Set(byProperty.keys());
  return (payload: object) => {
    const owner = payload as Record<string, unknown>;
    // whitelist + forbidNonWhitelisted: a property without rules is an error.
    for (const key in owner) {
      if (Object.prototype.hasOwnProperty.call(owner, key) && !known.has(key)) return false;
    }
    for (const rule of rules) {
      if (!rule.check(owner[rule.name], owner)) return false;
    }
    return true;
  };
}

function compileProperty(
  target: Function,
  property: string,
  metadatas: readonly ValidationMetadata[],
  compiling: Set<Function>,
): ValueCheck | undefined {
  // @Transform changes the value class-validator would see, and so does @Type outside @ValidateNested (e.g. Number).
  if (defaultMetadataStorage.findTransformMetadatas(target, property, TransformationType.PLAIN_TO_CLASS).length > 0) return undefined;
  const converted = defaultMetadataStorage.findTypeMetadata(target, property) !== undefined;
  if (converted && !metadatas.some((m) => m.type === ValidationTypes.NESTED_VALIDATION)) return undefined;
  const conditions: Array<(owner: object, value: unknown) => boolean> = [];
  const defined: ValueCheck[] = [];
  const custom: ValueCheck[] = [];
  const nested: ValueCheck[] = [];
  for (const metadata of metadatas) {
    switch (metadata.type) {
      case ValidationTypes.WHITELIST:
        break;
      case ValidationTypes.CONDITIONAL_VALIDATION:
        conditions.push(metadata.constraints[0] as (owner: object, value: unknown) => boolean);
        break;
      case ValidationTypes.IS_DEFINED:
      case ValidationTypes.CUSTOM_VALIDATION: {
        const check = compileConstraint(target, metadata);
        if (!check) return undefined;
        (metadata.type === ValidationTypes.IS_DEFINED ? defined : custom).push(check);
        break;
      }
      case ValidationTypes.NESTED_VALIDATION: {
        const check = compileNested(target, property, compiling);
        if (!check) return undefined;
        nested.push(check);
        break;
      }
      default:
        return undefined;
    }
  }
  const checks = [...defined, ...custom, ...nested];
  return (value, owner) => {
    // Like class-validator: a failed condition (e.g. @IsOptional on a missing value) skips every rule.
    for (const condition of conditions) if (!condition(owner, value)) return true;
    for (const check of checks) if (!check(value, owner)) return false;
    return true;
  };
}

function compileConstraint(target: Function, metadata: ValidationMetadata): ValueCheck | undefined {
  const constraints = getMetadataStorage().getTargetValidatorConstraints(metadata.constraintCls);
  if (constraints.length === 0 || constraints.some((c) => c.async)) return undefined;
  const validators = constraints.map((c) => c.instance);
  const maxLength = maxLengthOf(metadata);
  const validateOne = (value: unknown, owner: object): boolean => {
    if (maxLength !== undefined && typeof value === 'string' && value.length <= maxLength) return true;
    const args: ValidationArguments = {
      targetName: target.name,
      property: metadata.propertyName,
      object: owner,
      value,
      constraints: metadata.constraints,
    };
    for (const validator of validators) {
      // A validator returning a promise is async after all: not sure.
      if (validator.validate(value, args) !== true) return false;
    }
    return true;
  };
  if (!metadata.each) return validateOne;
  return (value, owner) => {
    if (value instanceof Set || value instanceof Map) return false;
    if (!Array.isArray(value)) return validateOne(value, owner);
    for (const item of value) if (!validateOne(item, owner)) return false;
    return true;
  };
}

/**
 * The limit of a `@MaxLength(max)` rule, which a string passes without asking
 * class-validator when it is no longer than `max` in UTF-16 code units:
 * class-validator counts its length without emoji variation selectors and
 * with a surrogate pair as one, each a global regex match per call, so never
 * more than `value.length`. Every app name in every request goes through such
 * a check. Undefined for any other rule.
 */
function maxLengthOf(metadata: ValidationMetadata): number | undefined {
  const [max] = metadata.constraints ?? [];
  return metadata.type === ValidationTypes.CUSTOM_VALIDATION && metadata.name === 'maxLength' && typeof max === 'number' ? max : undefined;
}

/** `@ValidateNested()` with `@Type(() => Class)`: a plain object (or an array of them) checked against Class. */
function compileNested(target: Function, property: string, compiling: Set<Function>): ValueCheck | undefined {
  const type = defaultMetadataStorage.findTypeMetadata(target, property);
  if (!type || type.options?.discriminator) return undefined;
  const nestedClass = type.typeFunction() as (new () => object) | undefined;
  if (typeof nestedClass !== 'function') return undefined;
  const check = compileClass(nestedClass, compiling);
  if (!check) return undefined;
  const checkObject = (value: unknown) => isPlainObject(value) && check(value);
  return (value) => {
    if (value === undefined) return true;
    if (Array.isArray(value)) return value.every(checkObject);
    return checkObject(value);
  };
}

/** A JSON-like object: the only kind the compiled checks are trusted with (no getters from a prototype, no toJSON). */
export function isPlainObject(value: unknown): value is object {
  if (value === null || typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function hasInitialisedFields(target: new () => object): boolean {
  try {
    return Object.keys(new target()).length > 0;
  } catch {
    return true;
  }
}

/** @Expose/@Exclude change which keys class-validator would see; leave such classes to it. */
function usesTransformerFeatures(target: Function): boolean {
  return defaultMetadataStorage.getExposedMetadatas(target).length > 0 || defaultMetadataStorage.getExcludedMetadatas(target).length > 0;
}
