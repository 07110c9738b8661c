import { ValidationError, ValidationPipe } from '@nestjs/common';
import { BadUserInputError, FieldProblem } from '../common/app-errors';

function problems(errors: ValidationError[], parent = ''): FieldProblem[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((reason) => ({ field, reason }));
    return [...own, ...problems(error.children ?? [], field)];
  });
}

/** Validates resolver arguments (class-validator DTOs) and reports every field and why as BAD_USER_INPUT. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    exceptionFactory: (errors) => {
      const fields = problems(errors);
      return new BadUserInputError(`Invalid input: ${fields.map((p) => `${p.field}: ${p.reason}`).join('; ')}`, fields);
    },
  });
}
