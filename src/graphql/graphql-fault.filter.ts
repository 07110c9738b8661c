import { ArgumentsHost, Catch } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { GqlArgumentsHost } from '@nestjs/graphql';
import { GraphQLResolveInfo, responsePathAsArray } from 'graphql';
import { isClientMistake, logThrownFault } from './format-error';

/**
 * What happens to an error a resolver, its guard or its pipe throws: a fault
 * is logged here, once, with its response path, and the error goes back to
 * graphql-js, which hands it to format-error.ts for the client.
 *
 * Why here and not only in format-error: over graphql-ws an operation the
 * client completed (cancelled) before its result arrived never reaches the
 * formatter, and its fault would go unlogged. Why not Nest's default handler:
 * it logs every error that is not an IntrinsicException (and none that is,
 * such as an HttpException with status 500), and format-error logged each
 * fault a second time. HTTP endpoints (`/health`, 404s, bad bodies) keep
 * Nest's default; any other context only has the error rethrown, as Nest's
 * own handler does, since BaseExceptionFilter speaks only HTTP.
 */
@Catch()
export class GraphqlFaultFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): unknown {
    if (host.getType() === 'http') return super.catch(exception, host);
    // The formatter's rule: an AppError, a Nest HttpException of a status the contract names, or a GraphQLError
    // with a framework code is an answer.
    // A thrown non-Error is left to the formatter: graphql-js wraps it in a new Error, which it would log again.
    if (exception instanceof Error && !isClientMistake(exception)) logThrownFault(exception, pathOf(host));
    throw exception;
  }
}

/** `apps` or `appSettings.values`, as format-error names the field; the context type where there is no resolver info. */
function pathOf(host: ArgumentsHost): string {
  const info = host.getType<string>() === 'graphql' ? GqlArgumentsHost.create(host).getInfo<GraphQLResolveInfo | undefined>() : undefined;
  return info?.path ? responsePathAsArray(info.path).join('.') : host.getType();
}
