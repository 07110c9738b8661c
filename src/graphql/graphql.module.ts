import { join } from 'node:path';
import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { APP_PIPE } from '@nestjs/core';
import { GraphQLModule as NestGraphQLModule } from '@nestjs/graphql';
import type { Request } from 'express';
import { SessionAuthenticator } from '../sessions/session-authenticator';
import { CorrelationMiddleware } from './correlation.middleware';
import { depthLimit } from './depth-limit.rule';
import { formatGraphQLError } from './format-error';
import { GraphqlContext } from './graphql-context';
import { createValidationPipe } from './validation.pipe';

/** Deepest operation the API accepts (the contract's deepest useful query is 3). */
export const MAX_QUERY_DEPTH = 10;

/**
 * The GraphQL API, code-first: each domain contributes its resolvers; the
 * generated schema is written to `schema.gql` at the repository root and committed.
 * Each HTTP request's principal is resolved once, here, from its bearer token
 * (SessionAuthenticator, provided by the global SessionsModule); the global
 * AccessGuard (PermissionsModule) enforces each operation's policy on it.
 */
@Module({
  imports: [
    NestGraphQLModule.forRootAsync<ApolloDriverConfig>({
      driver: ApolloDriver,
      inject: [SessionAuthenticator],
      useFactory: (authenticator: SessionAuthenticator) => ({
        autoSchemaFile: join(process.cwd(), 'schema.gql'),
        sortSchema: true,
        path: '/graphql',
        playground: false,
        introspection: true,
        includeStacktraceInErrorResponses: false,
        formatError: formatGraphQLError,
        validationRules: [depthLimit(MAX_QUERY_DEPTH)],
        // HTTP only: a WebSocket operation has no request; its principal is resolved once, when the socket connects,
        // with authenticator.authenticateAuthorization(connectionParams.authorization), into the same field.
        context: async ({ req }: { req?: Request }): Promise<GraphqlContext> => ({
          req,
          principal: req ? await authenticator.authenticateAuthorization(req.headers.authorization) : null,
        }),
      }),
    }),
  ],
  providers: [{ provide: APP_PIPE, useFactory: createValidationPipe }, CorrelationMiddleware],
})
export class GraphqlModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(CorrelationMiddleware).forRoutes('*path');
  }
}
