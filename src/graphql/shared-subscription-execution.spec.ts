import {
  ExecutionResult,
  GraphQLBoolean,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  parse,
} from 'graphql';
import { BoundedStream } from './bounded-stream';
import { shareExecutions, SharedSubscriptionExecution } from './shared-subscription-execution';

interface Change {
  readonly changed: { readonly name: string; readonly state: string };
}

interface Context {
  readonly principal: { readonly name: string } | null;
}

/**
 * A schema with one subscription whose source streams the test feeds by hand: `shared` marks its streams with
 * `shareExecutions`, `private` does not. `resolvedStates` counts how often `state` is resolved, i.e. executions.
 */
function fixture() {
  const streams: BoundedStream<Change>[] = [];
  const counts = { resolvedStates: 0 };
  const open = (marked: boolean) => {
    const stream = new BoundedStream<Change>(10, () => undefined, () => streams.splice(streams.indexOf(stream), 1));
    streams.push(stream);
    return marked ? shareExecutions(stream) : stream;
  };
  const Changed = new GraphQLObjectType<Change['changed'], Context>({
    name: 'Changed',
    fields: {
      name: { type: new GraphQLNonNull(GraphQLString) },
      state: {
        type: new GraphQLNonNull(GraphQLString),
        resolve: (source) => {
          counts.resolvedStates++;
          return source.state;
        },
      },
      // What a shared execution must never answer from one client's context for another.
      viewer: { type: GraphQLString, resolve: (_source, _args, context) => context.principal?.name ?? null },
    },
  });
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLBoolean } } }),
    subscription: new GraphQLObjectType<unknown, Context>({
      name: 'Subscription',
      fields: {
        shared: { type: new GraphQLNonNull(Changed), subscribe: () => open(true), resolve: (event: Change) => event.changed },
        private: { type: new GraphQLNonNull(Changed), subscribe: () => open(false), resolve: (event: Change) => event.changed },
        refused: {
          type: Changed,
          subscribe: () => {
            throw new Error('Forbidden');
          },
        },
      },
    }),
  });
  const executions = new SharedSubscriptionExecution();
  const subscribe = async (query: string, variableValues?: Record<string, unknown>, principal: string | null = null) => {
    const result = await executions.subscribe({
      schema,
      document: parse(query),
      variableValues,
      contextValue: { principal: principal === null ? null : { name: principal } } satisfies Context,
    });
    if (!(Symbol.asyncIterator in result)) throw new Error(`no stream: ${JSON.stringify(result)}`);
    return result;
  };
  /** One event, the same object for every open stream, as the bridge delivers it. */
  const publish = (name: string, state: string) => {
    const event: Change = { changed: { name, state } };
    for (const stream of [...streams]) stream.push(event);
  };
  return { schema, executions, subscribe, publish, streams, counts };
}

const next = async (stream: AsyncIterator<ExecutionResult>) => (await stream.next()).value as ExecutionResult;

describe('SharedSubscriptionExecution', () => {
  it('executes an event once for every client with the same query and variables, and each gets that result', async () => {
    const { subscribe, publish, counts } = fixture();
    const query = 'subscription { shared { name state } }';
    const clients = await Promise.all([subscribe(query, undefined, 'ann'), subscribe(query, undefined, 'bob'), subscribe(query)]);

    publish('de.app.one', 'INSTALLED');
    const results = await Promise.all(clients.map(next));

    expect(results.map((r) => r.data)).toEqual(Array(3).fill({ shared: { name: 'de.app.one', state: 'INSTALLED' } }));
    expect(counts.resolvedStates).toBe(1);
    publish('de.app.one', 'UNINSTALLED');
    expect((await Promise.all(clients.map(next))).map((r) => r.data)).toEqual(Array(3).fill({ shared: { name: 'de.app.one', state: 'UNINSTALLED' } }));
    expect(counts.resolvedStates).toBe(2);
  });

  it("gives a client whose selection set, operation or variables differ its own result, never another's", async () => {
    const { subscribe, publish } = fixture();
    const both = await subscribe('subscription { shared { name state } }');
    const nameOnly = await subscribe('subscription { shared { name } }');
    const named = await subscribe('subscription Named { shared { state } }');
    const withState = 'subscription($withState: Boolean!) { shared { name state @include(if: $withState) } }';
    const included = await subscribe(withState, { withState: true });
    const skipped = await subscribe(withState, { withState: false });

    publish('de.app.two', 'INSTALLED');

    expect((await next(both)).data).toEqual({ shared: { name: 'de.app.two', state: 'INSTALLED' } });
    expect((await next(nameOnly)).data).toEqual({ shared: { name: 'de.app.two' } });
    expect((await next(named)).data).toEqual({ shared: { state: 'INSTALLED' } });
    expect((await next(included)).data).toEqual({ shared: { name: 'de.app.two', state: 'INSTALLED' } });
    expect((await next(skipped)).data).toEqual({ shared: { name: 'de.app.two' } });
  });

  it("runs a shared execution with nobody's context, so no client's context reaches another", async () => {
    const { subscribe, publish } = fixture();
    const ann = await subscribe('subscription { shared { viewer } }', undefined, 'ann');
    const bob = await subscribe('subscription { shared { viewer } }', undefined, 'bob');

    publish('de.app.three', 'INSTALLED');

    expect((await next(ann)).data).toEqual({ shared: { viewer: null } });
    expect((await next(bob)).data).toEqual({ shared: { viewer: null } });
  });

  it('executes once per client, with its own context, for a stream that does not share', async () => {
    const { subscribe, publish, counts } = fixture();
    const ann = await subscribe('subscription { private { state viewer } }', undefined, 'ann');
    const bob = await subscribe('subscription { private { state viewer } }', undefined, 'bob');

    publish('de.app.four', 'INSTALLED');

    expect((await next(ann)).data).toEqual({ private: { state: 'INSTALLED', viewer: 'ann' } });
    expect((await next(bob)).data).toEqual({ private: { state: 'INSTALLED', viewer: 'bob' } });
    expect(counts.resolvedStates).toBe(2);
  });

  it('answers a subscription refused at subscribe with its errors, as graphql-js does', async () => {
    const { executions, schema } = fixture();
    const result = await executions.subscribe({
      schema,
      document: parse('subscription { refused { name } }'),
      contextValue: { principal: null },
    });
    expect(result).toEqual({ errors: [expect.objectContaining({ message: 'Forbidden' })] });
  });

  it('ends the source stream when the client ends the subscription', async () => {
    const { subscribe, streams } = fixture();
    const client = await subscribe('subscription { shared { name } }');
    expect(streams).toHaveLength(1);

    await client.return?.();

    expect(streams).toHaveLength(0);
    expect(await client.next()).toEqual({ value: undefined, done: true });
  });
});
