import { ArgumentsHost, Catch } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { GqlContextType } from '@nestjs/graphql';

/**
 * Hands a resolver's error back to graphql-js untouched and unlogged, so that
 * format-error.ts is the one place that maps and logs GraphQL errors. Without
 * it, Nest's default handler for resolvers logs every fault a second time
 * (and format-error sees errors Nest never does: parse, validation, field
 * resolution). Other contexts (the HTTP health endpoint) keep Nest's default.
 */
@Catch()
export class GraphqlFaultFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): unknown {
    // Rethrown, as Nest's own handler does after logging: graphql-js turns it into the field's error.
    if (host.getType<GqlContextType>() === 'graphql') throw exception;
    return super.catch(exception, host);
  }
}
