import { HttpException, HttpStatus, Logger } from '@nestjs/common';
import { GraphQLError, GraphQLFormattedError } from 'graphql';
import { AppError, FieldProblem } from '../common/app-errors';
import { isPlainObject } from '../event-bus/payload-check';

const logger = new Logger('GraphQL');

/** Codes graphql-js and Apollo assign themselves; their messages are safe to show as they are. */
const FRAMEWORK_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'BAD_REQUEST',
]);

type ClientCode = AppError['code'];

/**
 * Nest's own HTTP exceptions, by status, as the contract's codes: what Nest
 * throws when a guard returns false (403), and what a module may throw
 * (`new NotFoundException(…)`) instead of an AppError. Any other status is
 * not a client's mistake the API knows how to name: internal, and logged.
 */
const HTTP_STATUS_CODES = new Map<number, ClientCode>([
  [HttpStatus.BAD_REQUEST, 'BAD_USER_INPUT'],
  [HttpStatus.UNPROCESSABLE_ENTITY, 'BAD_USER_INPUT'],
  [HttpStatus.UNAUTHORIZED, 'UNAUTHENTICATED'],
  [HttpStatus.FORBIDDEN, 'FORBIDDEN'],
  [HttpStatus.NOT_FOUND, 'NOT_FOUND'],
  [HttpStatus.CONFLICT, 'CONFLICT'],
]);

/** What the client is told for an HTTP exception whose body says nothing it may see (an Error as the body, say). */
const GENERIC_MESSAGES: Record<ClientCode, string> = {
  BAD_USER_INPUT: 'Invalid input',
  UNAUTHENTICATED: 'Not authenticated',
  FORBIDDEN: 'Forbidden',
  NOT_FOUND: 'Not found',
  CONFLICT: 'Conflict',
};

function httpExceptionCode(error: unknown): ClientCode | undefined {
  return error instanceof HttpException ? HTTP_STATUS_CODES.get(error.getStatus()) : undefined;
}

/**
 * Whether `error`, thrown by a resolver, is a client's mistake the API
 * answers with one of the contract's codes rather than a fault to log: an
 * AppError, a Nest HttpException of a status in HTTP_STATUS_CODES, or a
 * GraphQLError carrying a framework code (as graphql-js's own errors do).
 */
export function isClientMistake(error: unknown): boolean {
  if (error instanceof AppError || httpExceptionCode(error) !== undefined) return true;
  const code: unknown = error instanceof GraphQLError ? error.extensions.code : undefined;
  return typeof code === 'string' && FRAMEWORK_CODES.has(code);
}

/**
 * How many times GraphqlFaultFilter has logged this error object and the
 * formatter has yet to see it: one object may fail several requests at once
 * (a shared load), and each is logged once, by the filter or, where no
 * filter saw it, by the formatter.
 */
const LOGGED_BY_FILTER = Symbol('appserver.loggedByFilter');
type Counted = Error & { [LOGGED_BY_FILTER]?: number };

/** Logs a fault where it is thrown (GraphqlFaultFilter), so that one the client stops waiting for is logged too. */
export function logThrownFault(fault: Error, path: string): void {
  logFault(fault, path);
  try {
    (fault as Counted)[LOGGED_BY_FILTER] = ((fault as Counted)[LOGGED_BY_FILTER] ?? 0) + 1;
  } catch {
    // A frozen error cannot be counted: the formatter will log it a second time, which beats not at all.
  }
}

/** Logs a fault the formatter meets, unless the filter already logged it for this request. */
function logFormattedFault(fault: unknown, path: string): void {
  if (fault instanceof Error && ((fault as Counted)[LOGGED_BY_FILTER] ?? 0) > 0) {
    (fault as Counted)[LOGGED_BY_FILTER]! -= 1;
    return;
  }
  logFault(fault, path);
}

/** A fault (an error that is not the client's mistake) at ERROR, with the response path it happened at and its stack. */
function logFault(fault: unknown, path: string): void {
  logger.error(`Unexpected error at ${path}: ${fault instanceof Error ? fault.stack : String(fault)}`);
}

/**
 * An HTTP exception's answer. Its message is what the code throwing it chose
 * for the client, as an AppError's is; but an exception built around another
 * error (`new BadRequestException(error)`) has that error as its body, and
 * the error's text (a database's, say) must not reach the client.
 */
function httpExceptionAnswer(exception: HttpException, code: ClientCode): { message: string; extensions: Record<string, unknown> } {
  const body: unknown = exception.getResponse();
  const said: unknown = typeof body === 'string' ? body : isPlainObject(body) ? (body as { message?: unknown }).message : undefined;
  const reasons = Array.isArray(said) ? said.filter((reason): reason is string => typeof reason === 'string') : [];
  const message = typeof said === 'string' ? said : reasons.length > 0 ? `${GENERIC_MESSAGES[code]}: ${reasons.join('; ')}` : GENERIC_MESSAGES[code];
  if (code !== 'BAD_USER_INPUT') return { message, extensions: { code } };
  // BAD_USER_INPUT always lists its problems; Nest's exceptions give reasons (ValidationPipe-style lists) but not fields.
  const fields: FieldProblem[] = reasons.map((reason) => ({ field: '', reason }));
  return { message, extensions: { code, fields } };
}

/**
 * The one mapping from errors to what a client sees: an AppError becomes its
 * code with its details, and so does a Nest HttpException of a status the
 * contract names (HTTP_STATUS_CODES); a framework error keeps its code;
 * anything else is INTERNAL_SERVER_ERROR with a generic message (logged in
 * full here unless GraphqlFaultFilter already did, never sent). Stack traces
 * never leave the server.
 */
export function formatGraphQLError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = error instanceof GraphQLError ? error.originalError : undefined;
  const base = { message: formatted.message, locations: formatted.locations, path: formatted.path };
  if (original instanceof AppError) {
    return { ...base, message: original.message, extensions: { code: original.code, ...original.details } };
  }
  const httpCode = httpExceptionCode(original);
  if (httpCode) return { ...base, ...httpExceptionAnswer(original as HttpException, httpCode) };
  // Errors graphql-js raised itself (no original, or a GraphQLError): bad query text, unknown field, bad variable.
  const raisedByGraphQL = original === undefined || original instanceof GraphQLError;
  const code = formatted.extensions?.code;
  if (raisedByGraphQL && typeof code === 'string' && FRAMEWORK_CODES.has(code)) {
    return { ...base, extensions: { code } };
  }
  // Without an original, the error is the one the resolver threw (graphql-js passes one with a path on as it is).
  logFormattedFault(original ?? error ?? formatted.message, formatted.path?.join('.') ?? 'request');
  return { ...base, message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}

/**
 * The errors graphql-ws sends in an `error` message (its `onError` hook):
 * those of a query that does not parse or validate, raised by graphql-js with
 * nothing underneath, are GRAPHQL_VALIDATION_FAILED, as graphql-ws does not
 * go through Apollo to get codes; an error a subscription's stream threw
 * while it ran (graphql-ws wraps it, `originalError` underneath) goes through
 * formatGraphQLError like any other: its code if it is a client's mistake,
 * else INTERNAL_SERVER_ERROR and logged.
 */
export function formatOperationErrors(errors: readonly GraphQLError[]): GraphQLFormattedError[] {
  return errors.map((error) =>
    error.originalError && !(error.originalError instanceof GraphQLError)
      ? formatGraphQLError(error.toJSON(), error)
      : { message: error.message, locations: error.locations, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } },
  );
}
