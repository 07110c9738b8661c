import { createHash } from 'node:crypto';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import {
  execute,
  getOperationAST,
  GraphQLError,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  parse,
  print,
  validate,
} from 'graphql';
import type { ExecutionResult } from 'graphql';
import { compileQuery } from 'graphql-jit';
import { ForbiddenError } from '../common/app-errors';
import { CompiledQueryExecutor, CompiledQueryExecutorOptions, MAX_COMPILED_FIELDS, QueryCompiler } from './compiled-query-executor';

/** A schema with what the API's resolvers do: answer at once or later, return null, throw an AppError or a fault. */
function testSchema(): GraphQLSchema {
  const item: GraphQLObjectType = new GraphQLObjectType({
    name: 'Item',
    fields: () => ({
      name: { type: new GraphQLNonNull(GraphQLString) },
      size: { type: GraphQLInt },
      later: { type: GraphQLString, resolve: async (parent: { name: string }) => `${parent.name} later` },
      refused: {
        type: GraphQLString,
        resolve: () => {
          throw new ForbiddenError('Only the owner may see this');
        },
      },
      broken: {
        type: new GraphQLNonNull(GraphQLString),
        resolve: async () => {
          throw new Error('database gone');
        },
      },
      missing: { type: new GraphQLNonNull(GraphQLString), resolve: () => null },
    }),
  });
  let counter = 0;
  return new GraphQLSchema({
    query: new GraphQLObjectType({
      name: 'Query',
      fields: {
        item: {
          type: item,
          args: { name: { type: new GraphQLNonNull(GraphQLString) } },
          resolve: (_root, args: { name: string }) => (args.name === 'none' ? null : { name: args.name, size: args.name.length }),
        },
        items: { type: new GraphQLList(item), resolve: async () => [{ name: 'a', size: 1 }, { name: 'bb' }] },
        who: { type: GraphQLString, resolve: (_root, _args, context: { user: string }) => context.user },
      },
    }),
    mutation: new GraphQLObjectType({ name: 'Mutation', fields: { count: { type: GraphQLInt, resolve: () => ++counter } } }),
  });
}

/**
 * The request Apollo hands its gateway's executor, for a query it has parsed
 * and validated, with the operation it resolved from `operationName` (none,
 * when it could not).
 */
function requestFor(
  schema: GraphQLSchema,
  document: ReturnType<typeof parse>,
  variables?: Record<string, unknown>,
  operationName?: string,
  context: object = { user: 'ada' },
): GatewayGraphQLRequestContext {
  expect(validate(schema, document)).toEqual([]);
  const source = print(document);
  const operation = getOperationAST(document, operationName) ?? undefined;
  return {
    document,
    source,
    operation,
    operationName: operation?.name?.value ?? null,
    queryHash: createHash('sha256').update(source).digest('hex'),
    request: { variables, operationName },
    context,
  } as unknown as GatewayGraphQLRequestContext;
}

/** An executor with the schema loaded, as Apollo's start loads it through the gateway. */
function startedExecutor(schema: GraphQLSchema, options: CompiledQueryExecutorOptions): CompiledQueryExecutor {
  const executor = new CompiledQueryExecutor(options);
  executor.asGateway(() => schema).onSchemaLoadOrUpdate(() => undefined);
  return executor;
}

/**
 * What Apollo and formatGraphQLError make of a result: the data, and each
 * error's message, locations, path and extensions, and the kind and message
 * of its original error (whose stack differs, as it was thrown elsewhere).
 */
function observable(result: ExecutionResult) {
  return {
    data: result.data,
    errors: result.errors?.map((error) => ({
      json: error.toJSON(),
      graphqlJsKind: Object.getPrototypeOf(error) === GraphQLError.prototype,
      original: error.originalError && { kind: error.originalError.constructor.name, message: error.originalError.message },
    })),
  };
}

describe('CompiledQueryExecutor', () => {
  let schema: GraphQLSchema;
  let compilations: number;
  let executor: CompiledQueryExecutor;
  const countingCompiler: QueryCompiler = (...args) => {
    compilations++;
    return compileQuery(...args);
  };

  beforeEach(() => {
    schema = testSchema();
    compilations = 0;
    executor = startedExecutor(schema, { compile: countingCompiler });
  });

  /** Runs one document as graphql-js does it and then twice more through the executor (interpreted, then compiled). */
  async function runThrice(query: string, variables?: Record<string, unknown>) {
    const document = parse(query);
    const request = requestFor(schema, document, variables);
    const reference = await execute({ schema, document, contextValue: request.context, variableValues: variables });
    const interpreted = await executor.executor(request);
    const compiled = await executor.executor(request);
    return { reference, interpreted, compiled };
  }

  it('runs a query through graphql-js the first time and compiles it once, for its second and later runs', async () => {
    const document = parse('query Q($n: String!) { item(name: $n) { name size } }');
    const request = requestFor(schema, document, { n: 'abc' });

    await executor.executor(request);
    expect(compilations).toBe(0);
    for (let run = 0; run < 3; run++) expect(await executor.executor(request)).toEqual({ data: { item: { name: 'abc', size: 3 } } });
    expect(compilations).toBe(1);
  });

  it('compiles at first sight when told to run nothing interpreted', async () => {
    const eager = startedExecutor(schema, { interpretedRunsBeforeCompiling: 0, compile: countingCompiler });
    expect(await eager.executor(requestFor(schema, parse('{ who }')))).toEqual({ data: { who: 'ada' } });
    expect(compilations).toBe(1);
  });

  it('never compiles a mutation: each runs through graphql-js, in order', async () => {
    const request = requestFor(schema, parse('mutation { a: count b: count }'));
    const answers = [await executor.executor(request), await executor.executor(request), await executor.executor(request)];

    expect(answers.map((answer) => answer.data)).toEqual([
      { a: 1, b: 2 },
      { a: 3, b: 4 },
      { a: 5, b: 6 },
    ]);
    expect(compilations).toBe(0);
  });

  it.each([
    ['nested fields, aliases and the context', '{ who first: item(name: "x") { name size } none: item(name: "none") { name } }'],
    ['lists and resolvers that answer later', '{ items { name size later } }'],
    ['fragments and @skip / @include', '{ item(name: "frag") { ...F size @skip(if: true) } } fragment F on Item { name later @include(if: false) }'],
    ['an AppError: null where it was thrown, the error with its path and original', '{ item(name: "x") { name refused } }'],
    ['a fault in a non-null field: the parent becomes null', '{ item(name: "x") { name broken } items { name } }'],
    ['null returned for a non-null field', '{ items { name missing } }'],
  ])('answers exactly as graphql-js does: %s', async (_case, query) => {
    const { reference, interpreted, compiled } = await runThrice(query);

    expect(compilations).toBe(1);
    expect(observable(interpreted)).toEqual(observable(reference));
    expect(observable(compiled)).toEqual(observable(reference));
  });

  it('hands Apollo graphql-js errors, so it finds their extensions and original error', async () => {
    const { compiled } = await runThrice('{ item(name: "x") { refused } }');

    const [error] = compiled.errors!;
    expect(Object.getPrototypeOf(error)).toBe(GraphQLError.prototype);
    expect(error.originalError).toBeInstanceOf(ForbiddenError);
    expect(error.extensions).toEqual({});
    expect(error.toJSON()).toEqual({ message: 'Only the owner may see this', locations: [{ line: 1, column: 21 }], path: ['item', 'refused'] });
  });

  it('answers variables that do not coerce with the errors of graphql-js, which Apollo makes BAD_USER_INPUT', async () => {
    const document = parse('query Q($n: String!) { item(name: $n) { name } }');
    const request = requestFor(schema, document, { n: 'warm' });
    await executor.executor(request);
    await executor.executor(request);
    expect(compilations).toBe(1);

    for (const variables of [{}, { n: 42 }, { n: null }]) {
      const wrong = { ...request, request: { variables } } as GatewayGraphQLRequestContext;
      const reference = await execute({ schema, document, variableValues: variables });
      const answer = await executor.executor(wrong);
      expect(reference.errors).toHaveLength(1);
      // Apollo tells a variable's error by the variable definition it names (its `nodes`).
      expect(observable(answer)).toEqual(observable(reference));
      expect(answer.errors![0].nodes?.[0]?.kind).toBe('VariableDefinition');
    }
  });

  it('keeps the most recently used queries within its bound, and compiles again one it had to drop', async () => {
    const bounded = startedExecutor(schema, { interpretedRunsBeforeCompiling: 0, compile: countingCompiler, maxCompiledQueries: 2 });
    const [who, item, items] = ['{ who }', '{ item(name: "x") { name } }', '{ items { name } }'].map((query) => requestFor(schema, parse(query)));

    for (const request of [who, item, who, items]) await bounded.executor(request);
    expect(compilations).toBe(3);
    await bounded.executor(who);
    expect(compilations).toBe(3);
    expect(await bounded.executor(item)).toEqual({ data: { item: { name: 'x' } } });
    expect(compilations).toBe(4);
  });

  it('runs what graphql-jit cannot compile through graphql-js, and does not try again', async () => {
    const refusing = startedExecutor(schema, {
      interpretedRunsBeforeCompiling: 0,
      compile: () => {
        compilations++;
        return { errors: [new GraphQLError('cannot compile this')] };
      },
    });
    const request = requestFor(schema, parse('{ who }'));

    expect(await refusing.executor(request)).toEqual({ data: { who: 'ada' } });
    expect(await refusing.executor(request)).toEqual({ data: { who: 'ada' } });
    expect(compilations).toBe(1);
  });

  it('gives Apollo, as a gateway, the schema it is handed when Apollo starts, and runs nothing before', async () => {
    const fresh = new CompiledQueryExecutor();
    const request = requestFor(schema, parse('{ who }'));
    expect(() => fresh.executor(request)).toThrow(/no schema/);

    const gateway = fresh.asGateway(() => schema);
    const loaded: GraphQLSchema[] = [];
    gateway.onSchemaLoadOrUpdate(({ apiSchema }) => loaded.push(apiSchema));
    const { executor: loadedExecutor } = await gateway.load({ apollo: {} as never });

    expect(loaded).toEqual([schema]);
    expect(loadedExecutor).toBe(fresh.executor);
    expect(await fresh.executor(request)).toEqual({ data: { who: 'ada' } });
  });

  it('answers an operation Apollo could not resolve as graphql-js does: several without a name, an unknown name', async () => {
    const document = parse('query A { who } query B { items { name } }');
    for (const operationName of [undefined, 'C']) {
      const request = requestFor(schema, document, undefined, operationName);
      expect(request.operation).toBeUndefined();
      const reference = await execute({ schema, document, operationName });

      for (let run = 0; run < 2; run++) expect(observable(await executor.executor(request))).toEqual(observable(reference));
    }
    expect(compilations).toBe(0);
  });

  it('compiles each named operation of a document on its own', async () => {
    const document = parse('query A { who } query B { items { name } }');
    const [a, b] = ['A', 'B'].map((name) => requestFor(schema, document, undefined, name));

    for (const request of [a, b, a, b]) await executor.executor(request);
    expect(compilations).toBe(2);
    expect(await executor.executor(a)).toEqual({ data: { who: 'ada' } });
    expect(await executor.executor(b)).toEqual({ data: { items: [{ name: 'a' }, { name: 'bb' }] } });
  });

  it('does not compile for a request it is told may not, a query with too many fields, or introspection', async () => {
    const anonymous = { user: null };
    const picky = startedExecutor(schema, { interpretedRunsBeforeCompiling: 0, compile: countingCompiler, mayCompile: (context) => context !== anonymous });
    const requests = [
      requestFor(schema, parse('{ who }'), undefined, undefined, anonymous),
      requestFor(schema, parse(`{ ${Array.from({ length: MAX_COMPILED_FIELDS + 1 }, (_, i) => `w${i}: who`).join(' ')} }`)),
      requestFor(schema, parse('{ __schema { queryType { name } } }')),
      requestFor(schema, parse('{ who ...Introspecting } fragment Introspecting on Query { item(name: "x") { name } __type(name: "Item") { name } }')),
    ];

    for (let run = 0; run < 3; run++) {
      for (const request of requests) expect((await picky.executor(request)).errors).toBeUndefined();
    }
    expect(compilations).toBe(0);
    expect(picky.compiledQueries).toBe(0);
    expect(await picky.executor(requestFor(schema, parse('{ who __typename }')))).toEqual({ data: { who: 'ada', __typename: 'Query' } });
    expect(compilations).toBe(1);
  });

  it('counts a fragment wherever it is spread, as the compiled code repeats it', async () => {
    const eager = startedExecutor(schema, { interpretedRunsBeforeCompiling: 0, compile: countingCompiler });
    // Each spread is the aliased `item` field and the fragment's 30 fields: 31 selections.
    const fragment = `fragment Thirty on Item { ${Array.from({ length: 30 }, (_, i) => `n${i}: name`).join(' ')} }`;
    const spreads = (count: number) => `{ ${Array.from({ length: count }, (_, i) => `i${i}: item(name: "x") { ...Thirty }`).join(' ')} } ${fragment}`;
    expect(31 * 3).toBeLessThanOrEqual(MAX_COMPILED_FIELDS);
    expect(31 * 4).toBeGreaterThan(MAX_COMPILED_FIELDS);

    await eager.executor(requestFor(schema, parse(spreads(4))));
    expect(compilations).toBe(0);
    const answer = await eager.executor(requestFor(schema, parse(spreads(3))));
    expect(compilations).toBe(1);
    expect(Object.keys(answer.data!)).toEqual(['i0', 'i1', 'i2']);
  });

  it('compiles at most so many queries a second, and the others on a later run', async () => {
    let now = 0;
    const budgeted = startedExecutor(schema, { interpretedRunsBeforeCompiling: 0, compile: countingCompiler, maxCompilesPerSecond: 2, clock: () => now });
    const queries = ['{ who }', '{ items { name } }', '{ item(name: "x") { name } }'].map((query) => requestFor(schema, parse(query)));

    for (const request of queries) expect((await budgeted.executor(request)).errors).toBeUndefined();
    expect(compilations).toBe(2);
    now = 999;
    await budgeted.executor(queries[2]);
    expect(compilations).toBe(2);
    now = 1_000;
    expect(await budgeted.executor(queries[2])).toEqual({ data: { item: { name: 'x' } } });
    expect(compilations).toBe(3);
    expect(budgeted.compiledQueries).toBe(3);
  });

  it('keeps its compiled queries while ever new queries come and go', async () => {
    const single = startedExecutor(schema, { compile: countingCompiler, maxCompiledQueries: 1 });
    const hot = requestFor(schema, parse('{ who }'));
    await single.executor(hot);
    await single.executor(hot);
    expect(compilations).toBe(1);

    for (let i = 0; i < 20; i++) await single.executor(requestFor(schema, parse(`{ item(name: "one-off ${i}") { name } }`)));
    await single.executor(hot);
    expect(compilations).toBe(1);
    expect(single.compiledQueries).toBe(1);
  });
});
