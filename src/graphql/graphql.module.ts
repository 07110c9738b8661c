import { join } from 'node:path';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { GraphQLSchemaHost, GraphQLWsSubscriptionsConfig, GraphQLModule as NestGraphQLModule } from '@nestjs/graphql';
import type { FastifyRequest } from 'fastify';
import { specifiedRules, validate } from 'graphql';
import type { DocumentNode, ExecutionResult, FormattedExecutionResult, GraphQLError, GraphQLSchema } from 'graphql';
import type { Context as WsContext } from 'graphql-ws';
import type { WebSocket } from 'ws';
import { UserPrincipal } from '../common/principal';
import { SessionAuthenticator } from '../sessions/session-authenticator';
import { CompiledQueryExecutor } from './compiled-query-executor';
import { CompiledQueryExecutorModule } from './compiled-query-executor.module';
import { CorrelationHook } from './correlation.hook';
import { GraphqlModuleOptions } from './graphql-module.options';
import { GRAPHQL_PATH } from './graphql-path';
import { HostHeaderHook } from './host-header.hook';
import { depthLimit } from './depth-limit.rule';
import { EagerContextCreatorModule } from './eager-context-creator.module';
import { formatGraphQLError, formatOperationErrors } from './format-error';
import { GraphqlFaultFilter } from './graphql-fault.filter';
import { GraphqlContext } from './graphql-context';
import { SharedSubscriptionExecution } from './shared-subscription-execution';
import { createValidationPipe } from './validation.pipe';
import { WebSocketCloseCodes, WebSocketConnections } from './websocket-connections';
import { WebSocketConnectionsModule } from './websocket-connections.module';

/** What graphql-ws keeps per socket: the socket itself and, once authenticated at connect, its principal. */
interface SocketExtra {
  readonly socket: WebSocket;
  principal?: UserPrincipal;
}

/** graphql-ws hands Nest's hooks an untyped `extra`; this names what it holds here. */
type SocketContext = WsContext<Record<string, unknown> | undefined, unknown>;
const extraOf = (ctx: SocketContext) => ctx.extra as SocketExtra;

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
  providers: [
    { provide: APP_PIPE, useFactory: createValidationPipe },
    { provide: APP_FILTER, useClass: GraphqlFaultFilter },
    CorrelationHook,
    HostHeaderHook,
  ],
})
export class GraphqlModule {
  static forRoot(options: GraphqlModuleOptions = {}): DynamicModule {
    return {
      module: GraphqlModule,
      imports: [
        NestGraphQLModule.forRootAsync<ApolloDriverConfig>({
          driver: ApolloDriver,
          // EagerContextCreatorModule: found here before the global ExternalContextCreator (see the module).
          imports: [EagerContextCreatorModule, WebSocketConnectionsModule, CompiledQueryExecutorModule.forRoot(options)],
          inject: [SessionAuthenticator, WebSocketConnections, CompiledQueryExecutor, GraphQLSchemaHost],
          useFactory: (
            authenticator: SessionAuthenticator,
            connections: WebSocketConnections,
            executor: CompiledQueryExecutor,
            schemaHost: GraphQLSchemaHost,
          ) => ({
            autoSchemaFile: join(process.cwd(), 'schema.gql'),
            sortSchema: true,
            path: GRAPHQL_PATH,
            playground: false,
            introspection: true,
            includeStacktraceInErrorResponses: false,
            formatError: formatGraphQLError,
            validationRules: [depthLimit(MAX_QUERY_DEPTH)],
            // Apollo's default cache-control plugin hooks every field of every operation to compute a Cache-Control
            // header from @cacheControl hints; the schema has none (answers are per session), so it only cost time.
            plugins: [ApolloServerPluginCacheControlDisabled()],
            // Queries that are sent again run as compiled functions (graphql-jit) rather than through graphql-js's
            // interpreter; Apollo takes such an executor as a "gateway" to the schema Nest built (see the class).
            gateway: executor.asGateway(() => schemaHost.schema),
            subscriptions: {
              // The graphql-ws protocol (graphql-transport-ws), as Apollo Client's GraphQLWsLink speaks it, on /graphql.
              'graphql-ws': graphqlWsOptions(authenticator, connections),
            },
            // HTTP (Apollo's Fastify integration passes the request): the principal of each request from its bearer
            // token. WebSocket (graphql-ws passes its context): the one established at connect.
            context: async (input: FastifyRequest | { extra: SocketExtra }): Promise<GraphqlContext> => {
              if ('extra' in input) return { principal: input.extra.principal ?? null, socket: input.extra.socket };
              return { req: input, principal: await authenticator.authenticateAuthorization(input.headers.authorization) };
            },
          }),
        }),
      ],
    };
  }
}

/** graphql-ws on /graphql: authentication at connect, shared subscription executions, errors formatted as over HTTP. */
function graphqlWsOptions(authenticator: SessionAuthenticator, connections: WebSocketConnections): GraphQLWsSubscriptionsConfig {
  const executions = new SharedSubscriptionExecution({ formatErrors });
  // Cast: Nest's type lists only some graphql-ws hooks, but passes every option through to graphql-ws.
  return <GraphQLWsSubscriptionsConfig>{
    path: GRAPHQL_PATH,
    // graphql-ws validates on its own, not through Apollo: give it the same rules as HTTP, the depth limit included.
    validate: (schema: GraphQLSchema, document: DocumentNode) => validate(schema, document, [...specifiedRules, depthLimit(MAX_QUERY_DEPTH)]),
    // One execution per event and query for the streams that allow it (appStateChanged), not one per client,
    // written straight to the sockets (see SharedSubscriptionExecution).
    subscribe: executions.subscribe,
    onOperation: (ctx: SocketContext, id: string, _payload: unknown, _args: unknown, operation: unknown) => {
      // graphql-ws calls this before it checks that the client has not completed the subscription meanwhile
      // (a component mounting and unmounting at once): deliver only what it will really run.
      if (id in ctx.subscriptions) executions.deliverDirectly(operation, extraOf(ctx).socket, id);
      return undefined;
    },
    // Authenticated once, at connect; a session ended later closes the socket (WebSocketConnections).
    onConnect: async (ctx: SocketContext) => {
      const extra = extraOf(ctx);
      const principal = await authenticator.authenticateAuthorization(ctx.connectionParams?.authorization);
      if (!principal) {
        extra.socket.close(WebSocketCloseCodes.UNAUTHORIZED, 'Unauthorized: missing, invalid or expired token');
        return false;
      }
      extra.principal = principal;
      connections.add(principal.sessionId, extra.socket);
      return true;
    },
    onClose: (ctx: SocketContext) => {
      const extra = extraOf(ctx);
      if (extra.principal) connections.remove(extra.principal.sessionId, extra.socket);
    },
    // graphql-ws does not go through Apollo: map errors here with the same formatter, so a client gets
    // the same extensions.code (FORBIDDEN, BAD_USER_INPUT, …) over the socket as over HTTP.
    onNext: (_ctx: SocketContext, _id: string, _payload: unknown, _args: unknown, result: ExecutionResult) =>
      result.errors ? formatErrors(result) : undefined,
    // Sent as graphql-ws `error` messages: errors before execution (a query that does not parse or validate), and
    // an error a subscription's stream throws.
    onError: (_ctx: SocketContext, _id: string, _payload: unknown, errors: readonly GraphQLError[]) => formatOperationErrors(errors),
  };
}

/** A result with errors as a client gets it over graphql-ws: each error mapped by the formatter HTTP uses. */
function formatErrors(result: ExecutionResult): FormattedExecutionResult {
  return { ...result, errors: result.errors?.map((error) => formatGraphQLError(error.toJSON(), error)) };
}
