import { ArgumentMetadata, PipeTransform, ValidationError, ValidationPipe, ValidationPipeOptions } from '@nestjs/common';
import type { ValidatorOptions } from 'class-validator';
import { BadUserInputError, FieldProblem } from '../common/app-errors';
import { compilePayloadCheck, PayloadCheck } from '../event-bus/payload-check';

function problems(errors: ValidationError[], parent = ''): FieldProblem[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((reason) => ({ field, reason }));
    return [...own, ...problems(error.children ?? [], field)];
  });
}

/**
 * The ValidationPipe of every resolver argument. Valid arguments are the hot
 * path (every request has some), and class-validator's `validate` is most of
 * what the pipe costs per request: metadata lookups and a walk of the
 * validation tree, every time. So each argument class is compiled once, on
 * first use, into a check that calls class-validator's own constraint
 * functions (compilePayloadCheck, the same check the event bus uses for
 * payloads, with the same options: whitelist + forbidNonWhitelisted). Only its
 * "valid" is trusted; anything it cannot vouch for — an invalid argument, a
 * class it cannot compile, a nested instance — goes through class-validator,
 * which gives the verdict and the messages.
 */
class CompiledValidationPipe implements PipeTransform {
  /** Per argument class; undefined: not compilable, always class-validator. A fixed set: the API's DTO classes. */
  private readonly checks = new Map<Function, PayloadCheck | undefined>();
  private readonly classValidatorPipe: ClassValidatorPipe;

  constructor(options: ValidationPipeOptions) {
    this.classValidatorPipe = new ClassValidatorPipe(options, (argumentClass) => this.checkOf(argumentClass));
  }

  /**
   * Arguments that are a flat object of primitives (most of them: an app name,
   * an id) skip class-transformer too: for such a value and a class the check
   * compiles (no @Transform, @Expose, @Exclude, @Type), `plainToInstance` is
   * the class's constructor plus the keys copied over — GraphQL has already
   * coerced each value to its field's type. Such a value, once the check
   * vouches for it, is returned as it is rather than in a promise, so the
   * resolver runs without awaiting its arguments (see EagerContextCreator).
   * Anything else, and anything the check does not vouch for, takes the
   * whole ValidationPipe.
   */
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    const { metatype } = metadata;
    // What the pipe does not validate (a primitive argument, a custom decorator's value such as the principal)
    // it hands on as Nest's ValidationPipe would, but at once.
    if (!metatype || !this.classValidatorPipe.validates(metadata)) return this.classValidatorPipe.passOn(value, metadata);
    if (isFlatObjectOfPrimitives(value)) {
      const check = this.checkOf(metatype);
      if (check) {
        const instance = new metatype() as Record<string, unknown>;
        for (const key of Object.keys(value)) instance[key] = value[key];
        if (check(instance)) return instance;
      }
    }
    return this.classValidatorPipe.transform(value, metadata);
  }

  private checkOf(argumentClass: Function): PayloadCheck | undefined {
    if (!this.checks.has(argumentClass)) this.checks.set(argumentClass, compilePayloadCheck(argumentClass as new () => object));
    return this.checks.get(argumentClass);
  }
}

/** Nest's ValidationPipe, whose `validate` asks the compiled check first (for values that took class-transformer). */
class ClassValidatorPipe extends ValidationPipe {
  constructor(
    options: ValidationPipeOptions,
    private readonly checkOf: (argumentClass: Function) => PayloadCheck | undefined,
  ) {
    super(options);
  }

  /** Whether the pipe validates an argument of this kind (not a primitive, not a custom decorator's value). */
  validates(metadata: ArgumentMetadata): boolean {
    return this.toValidate(metadata);
  }

  /** What `transform` answers, in a promise, for an argument it does not validate (options with `transform: true`). */
  passOn(value: unknown, metadata: ArgumentMetadata): unknown {
    return this.transformPrimitive(value, metadata);
  }

  protected override validate(object: object, validatorOptions?: ValidatorOptions): Promise<ValidationError[]> | ValidationError[] {
    const argumentClass: unknown = object.constructor;
    if (typeof argumentClass === 'function' && this.checkOf(argumentClass)?.(object)) return [];
    return super.validate(object, validatorOptions);
  }
}

/** A plain object whose own values are all strings, numbers, booleans, null or undefined (and no `__proto__` key to copy). */
function isFlatObjectOfPrimitives(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return false;
  if (Object.prototype.hasOwnProperty.call(value, '__proto__')) return false;
  for (const key of Object.keys(value)) {
    const field = (value as Record<string, unknown>)[key];
    if (field !== null && typeof field === 'object') return false;
    if (typeof field === 'function' || typeof field === 'symbol' || typeof field === 'bigint') return false;
  }
  return true;
}

/** Validates resolver arguments (class-validator DTOs) and reports every field and why as BAD_USER_INPUT. */
export function createValidationPipe(): PipeTransform {
  return new CompiledValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    exceptionFactory: (errors) => {
      const fields = problems(errors);
      return new BadUserInputError(`Invalid input: ${fields.map((p) => `${p.field}: ${p.reason}`).join('; ')}`, fields);
    },
  });
}
