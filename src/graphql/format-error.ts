import { HttpException, HttpStatus, Logger } from '@nestjs/common';
import { GraphQLError, GraphQLFormattedError } from 'graphql';
import { AppError } from '../common/app-errors';

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

/**
 * Nest's own HTTP exceptions, by status, as the contract's codes: what Nest
 * throws when a guard returns false (403), and what a module may throw
 * (`new NotFoundException(…)`) instead of an AppError. Any other status is
 * not a client's mistake the API knows how to name: internal, and logged.
 */
const HTTP_STATUS_CODES = new Map<number, AppError['code']>([
  [HttpStatus.BAD_REQUEST, 'BAD_USER_INPUT'],
  [HttpStatus.UNPROCESSABLE_ENTITY, 'BAD_USER_INPUT'],
  [HttpStatus.UNAUTHORIZED, 'UNAUTHENTICATED'],
  [HttpStatus.FORBIDDEN, 'FORBIDDEN'],
  [HttpStatus.NOT_FOUND, 'NOT_FOUND'],
  [HttpStatus.CONFLICT, 'CONFLICT'],
]);

function httpExceptionCode(error: unknown): AppError['code'] | undefined {
  return error instanceof HttpException ? HTTP_STATUS_CODES.get(error.getStatus()) : undefined;
}

/** Whether `error` is a client's mistake the API answers with one of the contract's codes, rather than a fault to log. */
export function isClientMistake(error: unknown): boolean {
  return error instanceof AppError || httpExceptionCode(error) !== undefined;
}

/** Marks a fault once it is logged: GraphqlFaultFilter logs it when it happens, and formatGraphQLError does not again. */
const LOGGED = Symbol('appserver.faultLogged');

/**
 * Logs a fault (an error that is not the client's mistake) at ERROR, with the
 * response path it happened at and its stack, once per error object.
 */
export function logFault(fault: unknown, path: string): void {
  if (fault instanceof Error) {
    if (LOGGED in fault) return;
    Object.defineProperty(fault, LOGGED, { value: true });
  }
  logger.error(`Unexpected error at ${path}: ${fault instanceof Error ? fault.stack : String(fault)}`);
}

/**
 * The one mapping from errors to what a client sees: an AppError becomes its
 * code with its details, and so does a Nest HttpException of a status the
 * contract names (HTTP_STATUS_CODES); a framework error keeps its code; anything else is
 * INTERNAL_SERVER_ERROR with a generic message (logged in full here unless
 * GraphqlFaultFilter already did, never sent). Stack traces never leave the server.
 */
export function formatGraphQLError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = error instanceof GraphQLError ? error.originalError : undefined;
  const base = { message: formatted.message, locations: formatted.locations, path: formatted.path };
  if (original instanceof AppError) {
    return { ...base, message: original.message, extensions: { code: original.code, ...original.details } };
  }
  const httpCode = httpExceptionCode(original);
  if (httpCode) {
    // BAD_USER_INPUT always lists its fields; which field a plain BadRequestException means, it does not say.
    return { ...base, message: original!.message, extensions: httpCode === 'BAD_USER_INPUT' ? { code: httpCode, fields: [] } : { code: httpCode } };
  }
  // Errors graphql-js raised itself (no original, or a GraphQLError): bad query text, unknown field, bad variable.
  const raisedByGraphQL = original === undefined || original instanceof GraphQLError;
  const code = formatted.extensions?.code;
  if (raisedByGraphQL && typeof code === 'string' && FRAMEWORK_CODES.has(code)) {
    return { ...base, extensions: { code } };
  }
  logFault(original ?? formatted.message, formatted.path?.join('.') ?? 'request');
  return { ...base, message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}
