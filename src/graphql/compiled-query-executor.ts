import type { GatewayExecutor, GatewayGraphQLRequestContext, GatewayInterface } from '@apollo/server-gateway-interface';
import { execute, GraphQLError, Kind, printSchema } from 'graphql';
import type { DocumentNode, ExecutionResult, FragmentDefinitionNode, GraphQLSchema, OperationDefinitionNode, SelectionSetNode } from 'graphql';
import { compileQuery, isCompiledQuery } from 'graphql-jit';
import type { CompiledQuery } from 'graphql-jit';
import { L1LruStore } from '../cache/l1-lru.store';

/**
 * How many times a query runs through graphql-js before it is compiled.
 * Compiling costs far more than one run (1 ms for a few fields, 10 ms for a
 * hundred, measured), so a query sent once — or a client sending a new query
 * text every time — never pays for it; the queries an app sends over and
 * over do from their second run on.
 */
export const INTERPRETED_RUNS_BEFORE_COMPILING = 1;

/**
 * Most field selections a compiled query may have, each fragment counted
 * wherever it is spread. A compiled query is generated code that grows with
 * them: 20–40 KB of heap for a few fields, about 100 KB for a hundred
 * (measured); an app's own queries have a few dozen at most.
 */
export const MAX_COMPILED_FIELDS = 100;

/** How many compiled queries are kept, least recently used dropped first: about 25 MB at most. */
export const MAX_COMPILED_QUERIES = 250;

/**
 * Most compilations in one second; a query due beyond that runs interpreted
 * and is compiled on a later run. Each blocks the event loop for up to about
 * 10 ms, so a caller sending ever new queries twice each costs the server a
 * tenth of its time at most; an app's few dozen queries are all compiled in
 * the first seconds.
 */
export const MAX_COMPILES_PER_SECOND = 10;

/**
 * How many queries not compiled (yet) are remembered: how often each ran, or
 * that it is never to be compiled. Kept apart from the compiled ones, so a
 * client sending ever new queries pushes out only these.
 */
export const MAX_COUNTED_QUERIES = 1_000;

/** A query that is never to be compiled, as counted in `interpreted`. */
const NEVER = -1;

/** Entries are dropped for room only, never for age. */
const NO_EXPIRY = Number.POSITIVE_INFINITY;

/** graphql-jit's compiler, as CompiledQueryExecutor calls it. */
export type QueryCompiler = (schema: GraphQLSchema, document: DocumentNode, operationName?: string) => CompiledQuery | ExecutionResult;

export interface CompiledQueryExecutorOptions {
  /** Whether the queries of a request with this context may be compiled (default: all). */
  readonly mayCompile?: (context: unknown) => boolean;
  readonly interpretedRunsBeforeCompiling?: number;
  readonly maxCompiledQueries?: number;
  readonly maxCompilesPerSecond?: number;
  /** graphql-jit's compileQuery unless given (a seam for the unit spec). */
  readonly compile?: QueryCompiler;
  /** Milliseconds, for the compile budget (Date.now unless given). */
  readonly clock?: () => number;
}

type Result = ExecutionResult<Record<string, unknown>>;

/**
 * Runs the API's queries as functions compiled for each query (graphql-jit)
 * instead of through graphql-js's interpreter, which walks the query's AST
 * for every field of every request: coercing variables, collecting fields,
 * building each field's resolve info. For a request answered from L1 that
 * walk is a good part of the server's work (README, "Benchmarks").
 *
 * What it compiles, and what it leaves to graphql-js:
 * - Operations over HTTP, which Apollo runs; graphql-ws runs the socket's
 *   operations itself, with graphql-js.
 * - Queries only. Mutations change state and are not the hot path: they keep
 *   graphql-js's serial execution exactly as it is.
 * - A query from its second run on (INTERPRETED_RUNS_BEFORE_COMPILING), when
 *   the request may compile (`mayCompile`: the server lets only an
 *   authenticated caller's queries be compiled), the query has at most
 *   MAX_COMPILED_FIELDS field selections and does not introspect the schema
 *   (rare, and large), and the second's compile budget allows
 *   (MAX_COMPILES_PER_SECOND). Compiled queries are kept by the query text's
 *   hash (Apollo's, computed for every request anyway) and operation name,
 *   in a bounded LRU (MAX_COMPILED_QUERIES).
 * - An operation Apollo could not resolve (several in the document and no
 *   name, an unknown name): graphql-js answers with its own error.
 * - Variables that do not coerce: the query is run by graphql-js instead
 *   (no resolver has run yet), so the client gets graphql-js's errors, which
 *   Apollo recognises as BAD_USER_INPUT.
 * - Errors are handed to Apollo as graphql-js GraphQLErrors (graphql-jit has
 *   its own kind, whose `extensions` may be missing), with the same message,
 *   locations, path and original error, so formatGraphQLError sees no difference.
 *
 * Known differences with graphql-js, which nothing in this schema meets: the
 * default resolver reads a field's property and does not call it when it is
 * a function; a scalar serializing to null is null, not an error; errors for
 * null in non-null fields come after the others.
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
  private readonly compiled: L1LruStore<CompiledQuery>;
  /** Queries not compiled: how many runs each had so far, or NEVER. */
  private readonly interpreted = new L1LruStore<number>(MAX_COUNTED_QUERIES, Date.now);
  private readonly mayCompile: (context: unknown) => boolean;
  private readonly interpretedRuns: number;
  private readonly maxCompilesPerSecond: number;
  private readonly compile: QueryCompiler;
  private readonly clock: () => number;
  /** The compile budget's current second: when it began, and how many compilations it has had. */
  private budgetSecondStartedAt = Number.NEGATIVE_INFINITY;
  private compilesThisSecond = 0;

  constructor(options: CompiledQueryExecutorOptions = {}) {
    this.mayCompile = options.mayCompile ?? (() => true);
    this.interpretedRuns = options.interpretedRunsBeforeCompiling ?? INTERPRETED_RUNS_BEFORE_COMPILING;
    this.maxCompilesPerSecond = options.maxCompilesPerSecond ?? MAX_COMPILES_PER_SECOND;
    this.compile = options.compile ?? compileQuery;
    this.clock = options.clock ?? Date.now;
    this.compiled = new L1LruStore<CompiledQuery>(options.maxCompiledQueries ?? MAX_COMPILED_QUERIES, Date.now);
  }

  /** How many compiled queries are kept now (for tests and diagnostics). */
  get compiledQueries(): number {
    return this.compiled.size;
  }

  /**
   * The executor as Apollo's `gateway` option takes it. `schema` is read when
   * Apollo starts: Nest's GraphQLSchemaHost holds the final schema (sorted)
   * by then, the one graphql-ws and `schema.gql` have too.
   */
  asGateway(schema: () => GraphQLSchema): GatewayInterface {
    return {
      onSchemaLoadOrUpdate: (callback) => {
        this.schema = schema();
        callback({ apiSchema: this.schema, coreSupergraphSdl: printSchema(this.schema) });
        return () => undefined;
      },
      load: async () => ({ executor: this.executor }),
      stop: async () => undefined,
    };
  }

  /** Apollo's executor: called with a document Apollo has parsed and validated, and the operation it resolved (if any). */
  readonly executor: GatewayExecutor = (request) => {
    const result = this.execute(request);
    return result instanceof Promise ? result : Promise.resolve(result);
  };

  private execute(request: GatewayGraphQLRequestContext): Result | Promise<Result> {
    const compiled = this.compiledFor(request);
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
      operationName: request.request.operationName,
    }) as Result | Promise<Result>;
  }

  /** A compiled query's result as graphql-js would give it. */
  private completed(result: Result, request: GatewayGraphQLRequestContext): Result | Promise<Result> {
    // No `data` at all: the variables did not coerce, and nothing ran. graphql-js words those errors as Apollo expects.
    if (!('data' in result)) return this.interpret(request);
    return result.errors ? { ...result, errors: result.errors.map(asGraphQLJsError) } : result;
  }

  private compiledFor(request: GatewayGraphQLRequestContext): CompiledQuery | undefined {
    // Apollo always passes an operation it resolved; without one, graphql-js says what is wrong.
    if (request.operation?.operation !== 'query' || !this.mayCompile(request.context)) return undefined;
    // Apollo's resolved operation name tells the document's operations apart.
    const key = request.operationName === null ? request.queryHash : `${request.queryHash}:${request.operationName}`;
    const compiled = this.compiled.get(key);
    if (compiled) return compiled;
    const runs = this.interpreted.get(key) ?? 0;
    if (runs === NEVER) return undefined;
    if (runs < this.interpretedRuns) {
      this.interpreted.set(key, runs + 1, NO_EXPIRY);
      return undefined;
    }
    if (!worthCompiling(request.document, request.operation)) {
      this.interpreted.set(key, NEVER, NO_EXPIRY);
      return undefined;
    }
    // Over this second's budget: interpreted this time, compiled on a later run.
    if (!this.takeFromCompileBudget()) return undefined;
    const made = this.compile(this.requireSchema(), request.document, request.operationName ?? undefined);
    // graphql-jit answers with errors instead of a function for what it cannot compile; graphql-js runs those.
    if (!isCompiledQuery(made)) {
      this.interpreted.set(key, NEVER, NO_EXPIRY);
      return undefined;
    }
    this.interpreted.delete(key);
    this.compiled.set(key, made, NO_EXPIRY);
    return made;
  }

  /** Whether one more compilation fits in this second's budget (MAX_COMPILES_PER_SECOND), and if so takes it. */
  private takeFromCompileBudget(): boolean {
    const now = this.clock();
    if (now - this.budgetSecondStartedAt >= 1_000) {
      this.budgetSecondStartedAt = now;
      this.compilesThisSecond = 0;
    }
    if (this.compilesThisSecond >= this.maxCompilesPerSecond) return false;
    this.compilesThisSecond++;
    return true;
  }

  private requireSchema(): GraphQLSchema {
    if (!this.schema) throw new Error('CompiledQueryExecutor has no schema: Apollo has not loaded it through asGateway()');
    return this.schema;
  }
}

/** Fields that introspect the schema: what they answer is large, and asked for rarely. */
const INTROSPECTION_FIELDS = new Set(['__schema', '__type']);

/**
 * An operation small enough to compile (MAX_COMPILED_FIELDS field
 * selections at most, each fragment counted wherever it is spread, as the
 * compiled code repeats it) that does not introspect the schema. Counting
 * stops past the limit; each fragment is counted once (Apollo has validated
 * the document, so fragments do not spread themselves).
 */
function worthCompiling(document: DocumentNode, operation: OperationDefinitionNode): boolean {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const fragmentSelections = new Map<string, number>();
  const selections = (set: SelectionSetNode | undefined): number => {
    let count = 0;
    for (const selection of set?.selections ?? []) {
      if (selection.kind === Kind.FIELD) {
        if (INTROSPECTION_FIELDS.has(selection.name.value)) return Number.POSITIVE_INFINITY;
        count += 1 + selections(selection.selectionSet);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        count += selections(selection.selectionSet);
      } else {
        const name = selection.name.value;
        if (!fragmentSelections.has(name)) fragmentSelections.set(name, selections(fragments.get(name)?.selectionSet));
        count += fragmentSelections.get(name)!;
      }
      if (count > MAX_COMPILED_FIELDS) return count;
    }
    return count;
  };
  return selections(operation.selectionSet) <= MAX_COMPILED_FIELDS;
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
