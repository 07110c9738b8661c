import { IntrinsicException } from '@nestjs/common';

/**
 * The errors domain code throws for the client's mistakes. The GraphQL layer
 * maps each to its `extensions.code` in one place (src/graphql/format-error.ts);
 * anything else is an internal error whose details stay in the server log.
 *
 * An IntrinsicException (still an Error) because Nest's exception handler logs
 * every other error at ERROR with its stack: a client's mistake is an answer,
 * not a fault, and a flood of anonymous or malformed calls must not page the
 * operator. Internal errors are still logged, once each: by GraphqlFaultFilter
 * where they are thrown, or by format-error.ts (src/graphql).
 */
export abstract class AppError extends IntrinsicException {
  abstract readonly code: 'BAD_USER_INPUT' | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND' | 'CONFLICT';

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }

  /** Extra, client-safe details for `extensions`. */
  get details(): Record<string, unknown> {
    return {};
  }
}

/** One problem with one input field. */
export interface FieldProblem {
  /** Path of the field, e.g. `input.name` or `values.theme`. */
  readonly field: string;
  readonly reason: string;
}

export class BadUserInputError extends AppError {
  readonly code = 'BAD_USER_INPUT' as const;

  constructor(
    message: string,
    readonly fields: readonly FieldProblem[],
  ) {
    super(message);
  }

  override get details(): Record<string, unknown> {
    return { fields: this.fields };
  }
}

export class NotFoundError extends AppError {
  readonly code = 'NOT_FOUND' as const;
}

export class ConflictError extends AppError {
  readonly code = 'CONFLICT' as const;

  constructor(
    message: string,
    private readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }

  override get details(): Record<string, unknown> {
    return this.extra;
  }
}

export class UnauthenticatedError extends AppError {
  readonly code = 'UNAUTHENTICATED' as const;
}

export class ForbiddenError extends AppError {
  readonly code = 'FORBIDDEN' as const;
}
