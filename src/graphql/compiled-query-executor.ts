import type { GatewayExecutor, GatewayGraphQLRequestContext, GatewayInterface } from '@apollo/server-gateway-interface';
import { execute, GraphQLError, printSchema } from 'graphql';
import type { ExecutionResult, GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery } from 'graphql-jit';
import type { CompiledQuery } from 'graphql-jit';
import { L1LruStore } from '../cache/l1-lru.store';

/**
 * How many times a query runs through graphql-js before it is compiled.
 * Compiling costs far more than one run (it generates and loads a function),
 * so a query sent once — or a client sending a new query text every time —
 * never pays for it; the queries an app sends over and over do from their
 * second run on.
 */
export const INTERPRETED_RUNS_BEFORE_COMPILING = 1;

/**
 * How many queries are remembered (compiled, or counted towards it). An app
 * sends a few dozen different queries; the bound caps what a client sending
 * ever new ones can make the server hold — a compiled query is generated
 * code, tens of KB — and the least recently used goes first.
 */
export const MAX_PLANNED_QUERIES = 1_000;

/** Plans are dropped for room only, never for age. */
const NO_EXPIRY = Number.POSITIVE_INFINITY;

/** graphql-jit's compiler, as CompiledQueryExecutor calls it (a seam for the unit spec). */
export type QueryCompiler = (schema: GraphQLSchema, document: GatewayGraphQLRequestContext['document'], operationName?: string) => CompiledQuery | ExecutionResult;

/** What is known of one operation: how often it ran interpreted, then its compiled form (or that it cannot be compiled). */
type Plan = { readonly runs: number } | { readonly compiled: CompiledQuery } | { readonly uncompilable: true };

type Result = ExecutionResult<Record<string, unknown>>;

/**
 * Runs the API's queries as functions compiled for each query (graphql-jit)
 * instead of through graphql-js's interpreter, which walks the query's AST
 * for every field of every request: coercing variables, collecting fields,
 * building each field's resolve info. For a request answered from L1 that
 * walk is a good part of the server's work (README, "Benchmarks").
 *
 * What it runs, and what it leaves to graphql-js:
 * - Operations over HTTP, which Apollo runs; graphql-ws runs the socket's
 *   operations itself, with graphql-js.
 * - Queries only. Mutations change state and are not the hot path: they keep
 *   graphql-js's serial execution exactly as it is.
 * - A query from its second run on (INTERPRETED_RUNS_BEFORE_COMPILING). Plans
 *   are kept by the query text's hash (Apollo's, computed for every request
 *   anyway) and operation name, in a bounded LRU (MAX_PLANNED_QUERIES).
 * - Variables that do not coerce: the query is run by graphql-js instead
 *   (no resolver has run yet), so the client gets graphql-js's errors, which
 *   Apollo recognises as BAD_USER_INPUT.
 * - Errors are handed to Apollo as graphql-js GraphQLErrors (graphql-jit has
 *   its own kind, whose `extensions` may be missing), with the same message,
 *   locations, path and original error, so formatGraphQLError sees no difference.
 *
 * Resolvers are read from the schema when a query is compiled, so the schema
 * must not be rewrapped afterwards (Apollo does that only for plugins with a
 * `willResolveField` hook, and the server has none: the cache-control plugin
 * is disabled).
 *
 * Apollo Server 4 and later take a custom executor only through the
 * `gateway` option (their migration guide's answer for `executor`), so this
 * class is handed to Apollo as a gateway that "loads" the schema Nest built.
 */
export class CompiledQueryExecutor {
  private schema?: GraphQLSchema;
  private readonly plans: L1LruStore<Plan>;

  constructor(
    private readonly interpretedRuns = INTERPRETED_RUNS_BEFORE_COMPILING,
    private readonly compile: QueryCompiler = compileQuery,
    maxPlannedQueries = MAX_PLANNED_QUERIES,
  ) {
    this.plans = new L1LruStore<Plan>(maxPlannedQueries, Date.now);
  }

  /** For Nest's `transformSchema` option: the schema Nest generated, kept to run queries against, and returned as is. */
  readonly useSchema = (schema: GraphQLSchema): GraphQLSchema => {
    this.schema = schema;
    return schema;
  };

  /** The executor as Apollo's `gateway` option takes it. */
  asGateway(): GatewayInterface {
    return {
      onSchemaLoadOrUpdate: (callback) => {
        const schema = this.requireSchema();
        callback({ apiSchema: schema, coreSupergraphSdl: printSchema(schema) });
        return () => undefined;
      },
      load: async () => ({ executor: this.executor }),
      stop: async () => undefined,
    };
  }

  /** Apollo's executor: called with a document Apollo has parsed and validated, and the operation it resolved. */
  readonly executor: GatewayExecutor = (request) => {
    const result = this.execute(request);
    return result instanceof Promise ? result : Promise.resolve(result);
  };

  private execute(request: GatewayGraphQLRequestContext): Result | Promise<Result> {
    const compiled = request.operation.operation === 'query' ? this.compiledFor(request) : undefined;
    if (!compiled) return this.interpret(request);
    const result = compiled.query(undefined, request.context, request.request.variables) as Result | Promise<Result>;
    return result instanceof Promise ? result.then((settled) => this.completed(settled, request)) : this.completed(result, request);
  }

  /** graphql-js, as Apollo runs an operation without a gateway. */
  private interpret(request: GatewayGraphQLRequestContext): Result | Promise<Result> {
    return execute({
      schema: this.requireSchema(),
      document: request.document,
      contextValue: request.context,
      variableValues: request.request.variables,
      operationName: request.operationName,
    }) as Result | Promise<Result>;
  }

  /** A compiled query's result as graphql-js would give it. */
  private completed(result: Result, request: GatewayGraphQLRequestContext): Result | Promise<Result> {
    // No `data` at all: the variables did not coerce, and nothing ran. graphql-js words those errors as Apollo expects.
    if (!('data' in result)) return this.interpret(request);
    return result.errors ? { ...result, errors: result.errors.map(asGraphQLJsError) } : result;
  }

  private compiledFor(request: GatewayGraphQLRequestContext): CompiledQuery | undefined {
    // Apollo has resolved the operation: its name tells it apart from the document's others.
    const key = request.operationName === null ? request.queryHash : `${request.queryHash}:${request.operationName}`;
    const plan = this.plans.get(key) ?? { runs: 0 };
    if ('compiled' in plan) return plan.compiled;
    if ('uncompilable' in plan) return undefined;
    if (plan.runs < this.interpretedRuns) {
      this.plans.set(key, { runs: plan.runs + 1 }, NO_EXPIRY);
      return undefined;
    }
    const compiled = this.compile(this.requireSchema(), request.document, request.operation.name?.value);
    // graphql-jit answers with errors instead of a function for what it cannot compile; graphql-js runs those.
    this.plans.set(key, isCompiledQuery(compiled) ? { compiled } : { uncompilable: true }, NO_EXPIRY);
    return isCompiledQuery(compiled) ? compiled : undefined;
  }

  private requireSchema(): GraphQLSchema {
    if (!this.schema) throw new Error('CompiledQueryExecutor has no schema: pass its useSchema as the GraphQL module\'s transformSchema');
    return this.schema;
  }
}

/**
 * graphql-jit's error as a graphql-js GraphQLError: same message, path,
 * locations (already computed: graphql-js would compute them from AST nodes),
 * original error and extensions. Apollo reads `extensions.code` of every
 * error, and graphql-jit leaves `extensions` undefined when the original has none.
 * Where graphql-jit has no original error (null for a non-null field, a
 * value its scalar cannot serialize), graphql-js has one — the Error it threw
 * itself with that message — and formatGraphQLError logs it as a fault: so
 * it gets one here too.
 */
function asGraphQLJsError(error: GraphQLError): GraphQLError {
  if (Object.getPrototypeOf(error) === GraphQLError.prototype) return error;
  const original: unknown = error.originalError;
  const converted = new GraphQLError(error.message, {
    path: error.path,
    originalError: original instanceof Error ? original : new Error(error.message),
    extensions: error.extensions,
  });
  Object.defineProperty(converted, 'locations', { value: error.locations, enumerable: true });
  return converted;
}
