import { join } from 'node:path';
import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { APP_PIPE } from '@nestjs/core';
import { GraphQLModule as NestGraphQLModule } from '@nestjs/graphql';
import { CorrelationMiddleware } from './correlation.middleware';
import { depthLimit } from './depth-limit.rule';
import { formatGraphQLError } from './format-error';
import { createValidationPipe } from './validation.pipe';

/** Deepest operation the API accepts (the contract's deepest useful query is 3). */
export const MAX_QUERY_DEPTH = 10;

/**
 * The GraphQL API, code-first: each domain contributes its resolvers; the
 * generated schema is written to `schema.gql` at the repository root and committed.
 */
@Module({
  imports: [
    NestGraphQLModule.forRoot<ApolloDriverConfig>({
      driver: ApolloDriver,
      autoSchemaFile: join(process.cwd(), 'schema.gql'),
      sortSchema: true,
      path: '/graphql',
      playground: false,
      introspection: true,
      includeStacktraceInErrorResponses: false,
      formatError: formatGraphQLError,
      validationRules: [depthLimit(MAX_QUERY_DEPTH)],
      context: ({ req }: { req: unknown }) => ({ req }),
    }),
  ],
  providers: [{ provide: APP_PIPE, useFactory: createValidationPipe }, CorrelationMiddleware],
})
export class GraphqlModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(CorrelationMiddleware).forRoutes('*path');
  }
}
