import { ValidationError, ValidationPipe } from '@nestjs/common';
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
class CompiledValidationPipe extends ValidationPipe {
  /** Per argument class; undefined: not compilable, always class-validator. A fixed set: the API's DTO classes. */
  private readonly checks = new Map<Function, PayloadCheck | undefined>();

  protected override validate(object: object, validatorOptions?: ValidatorOptions): Promise<ValidationError[]> | ValidationError[] {
    const argumentClass: unknown = object.constructor;
    if (typeof argumentClass === 'function' && this.checkOf(argumentClass)?.(object)) return [];
    return super.validate(object, validatorOptions);
  }

  private checkOf(argumentClass: Function): PayloadCheck | undefined {
    if (!this.checks.has(argumentClass)) this.checks.set(argumentClass, compilePayloadCheck(argumentClass as new () => object));
    return this.checks.get(argumentClass);
  }
}

/** Validates resolver arguments (class-validator DTOs) and reports every field and why as BAD_USER_INPUT. */
export function createValidationPipe(): ValidationPipe {
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
