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
  const counts = { resolvedStates: 0, overflows: 0 };
  /** `later` resolves when the test releases the event's name. */
  const gates = new Map<string, () => void>();
  const release = (name: string) => gates.get(name)?.();
  const open = (marked: boolean) => {
    const stream = new BoundedStream<Change>(
      CAPACITY,
      () => counts.overflows++,
      () => streams.splice(streams.indexOf(stream), 1),
    );
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
      later: { type: GraphQLString, resolve: (source) => new Promise((resolve) => gates.set(source.name, () => resolve(source.name))) },
      broken: {
        type: GraphQLString,
        resolve: () => {
          throw new Error('broken field');
        },
      },
    },
  });
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLBoolean } } }),
    subscription: new GraphQLObjectType<unknown, Context>({
      name: 'Subscription',
      fields: {
        shared: { type: new GraphQLNonNull(Changed), subscribe: () => open(true), resolve: (event) => (event as Change).changed },
        private: { type: new GraphQLNonNull(Changed), subscribe: () => open(false), resolve: (event) => (event as Change).changed },
        refused: {
          type: Changed,
          subscribe: () => {
            throw new Error('Forbidden');
          },
        },
      },
    }),
  });
  const executions = new SharedSubscriptionExecution({
    formatErrors: (result) => ({ ...result, errors: result.errors?.map((error) => ({ message: `formatted: ${error.message}` })) }),
  });
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
  return { schema, executions, subscribe, publish, release, streams, counts };
}

const CAPACITY = 10;

/** The part of a `ws` WebSocket direct delivery uses, recording what is sent. */
class FakeSocket {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: unknown[] = [];

  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
}

/** Lets every promise chain that can go on go on. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

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

  describe('delivering directly to the socket', () => {
    it('sends each event as the graphql-ws next message of each subscription, executed once for all', async () => {
      const { executions, subscribe, publish, counts } = fixture();
      const query = 'subscription { shared { name state } }';
      const [first, second] = [new FakeSocket(), new FakeSocket()];
      executions.deliverDirectly(await subscribe(query), first, 'a1');
      executions.deliverDirectly(await subscribe(query), second, 'b7');

      publish('de.app.five', 'INSTALLED');
      publish('de.app.five', 'UNINSTALLED');

      const payload = (state: string) => ({ data: { shared: { name: 'de.app.five', state } } });
      expect(first.sent).toEqual([
        { id: 'a1', type: 'next', payload: payload('INSTALLED') },
        { id: 'a1', type: 'next', payload: payload('UNINSTALLED') },
      ]);
      expect(second.sent).toEqual([
        { id: 'b7', type: 'next', payload: payload('INSTALLED') },
        { id: 'b7', type: 'next', payload: payload('UNINSTALLED') },
      ]);
      expect(counts.resolvedStates).toBe(2);
    });

    it('sends first, in order, the events that came before delivery began', async () => {
      const { executions, subscribe, publish } = fixture();
      const stream = await subscribe('subscription { shared { state } }');
      publish('de.app.six', 'INSTALLED');
      publish('de.app.six', 'UNINSTALLED');
      const socket = new FakeSocket();

      executions.deliverDirectly(stream, socket, '1');
      publish('de.app.six', 'DEREGISTERED');

      expect(socket.sent.map((m) => (m as { payload: { data: { shared: { state: string } } } }).payload.data.shared.state)).toEqual([
        'INSTALLED',
        'UNINSTALLED',
        'DEREGISTERED',
      ]);
    });

    it('sends errors formatted as graphql-ws would after the onNext hook', async () => {
      const { executions, subscribe, publish } = fixture();
      const socket = new FakeSocket();
      executions.deliverDirectly(await subscribe('subscription { shared { name broken } }'), socket, '1');

      publish('de.app.seven', 'INSTALLED');

      expect(socket.sent).toEqual([
        { id: '1', type: 'next', payload: { data: { shared: { name: 'de.app.seven', broken: null } }, errors: [{ message: 'formatted: broken field' }] } },
      ]);
    });

    it('keeps the order when executions finish out of order, and sends nothing once the subscription has ended', async () => {
      const { executions, subscribe, publish, release } = fixture();
      const socket = new FakeSocket();
      const stream = await subscribe('subscription { shared { later } }');
      executions.deliverDirectly(stream, socket, '1');
      const laters = () => socket.sent.map((m) => (m as { payload: { data: { shared: { later: string } } } }).payload.data.shared.later);

      publish('de.app.eight', 'INSTALLED');
      publish('de.app.nine', 'INSTALLED');
      release('de.app.nine');
      await settled();
      expect(laters()).toEqual([]);
      release('de.app.eight');
      await settled();
      expect(laters()).toEqual(['de.app.eight', 'de.app.nine']);

      publish('de.app.ten', 'INSTALLED');
      await stream.return?.();
      release('de.app.ten');
      await settled();
      expect(laters()).toEqual(['de.app.eight', 'de.app.nine']);
    });

    it('cuts off a client whose socket holds back more than its capacity of messages', async () => {
      const { executions, subscribe, publish, counts } = fixture();
      const socket = new FakeSocket();
      const stream = await subscribe('subscription { shared { name } }');
      executions.deliverDirectly(stream, socket, '1');
      publish('de.app.eleven', 'INSTALLED');
      const messageLength = JSON.stringify(socket.sent[0]).length;

      socket.bufferedAmount = CAPACITY * messageLength;
      publish('de.app.eleven', 'UNINSTALLED');
      expect(counts.overflows).toBe(0);
      socket.bufferedAmount = CAPACITY * messageLength + 1;
      publish('de.app.eleven', 'DEREGISTERED');

      expect(counts.overflows).toBe(1);
      expect(socket.sent).toHaveLength(2);
      expect(await stream.next()).toEqual({ value: undefined, done: true });
    });

    it('cuts off a client whose query makes each message huge once its socket holds back 256 KB, not 100 such messages', async () => {
      const { executions, subscribe, publish, counts } = fixture();
      const socket = new FakeSocket();
      // 2,000 aliases: each message is about 40 KB, so CAPACITY of them would be 400 KB.
      const wide = `subscription { shared { ${Array.from({ length: 2000 }, (_, i) => `a${i}: name`).join(' ')} } }`;
      const stream = await subscribe(wide);
      executions.deliverDirectly(stream, socket, '1');
      publish('de.app.wide', 'INSTALLED');
      const messageLength = JSON.stringify(socket.sent[0]).length;
      expect(CAPACITY * messageLength).toBeGreaterThan(256 * 1024);

      socket.bufferedAmount = 256 * 1024 + 1;
      publish('de.app.wide', 'UNINSTALLED');

      expect(counts.overflows).toBe(1);
      expect(socket.sent).toHaveLength(1);
    });

    it('counts executions still running towards the capacity, and sends nothing after the server ended the stream', async () => {
      const { executions, subscribe, publish, release, streams, counts } = fixture();
      const socket = new FakeSocket();
      const stream = await subscribe('subscription { shared { later } }');
      executions.deliverDirectly(stream, socket, '1');

      for (let i = 0; i < CAPACITY; i++) publish(`de.app.slow-${i}`, 'INSTALLED');
      expect(counts.overflows).toBe(0);
      publish('de.app.slow-overflow', 'INSTALLED');
      expect(counts.overflows).toBe(1);
      expect(streams).toHaveLength(0);

      for (let i = 0; i < CAPACITY; i++) release(`de.app.slow-${i}`);
      await settled();
      expect(socket.sent).toEqual([]);
    });

    it('ends only the subscription whose result cannot be serialised, and goes on delivering to the others', async () => {
      const { executions, subscribe, publish, streams } = fixture();
      const failing = new FakeSocket();
      const healthy = new FakeSocket();
      const broken = await subscribe('subscription { shared { name } }', { unused: 1 });
      const fine = await subscribe('subscription { shared { name } }');
      executions.deliverDirectly(broken, failing, '1');
      executions.deliverDirectly(fine, healthy, '1');
      const spy = jest.spyOn(JSON, 'stringify').mockImplementationOnce(() => {
        throw new TypeError('Do not know how to serialize a BigInt');
      });
      try {
        publish('de.app.bigint', 'INSTALLED');
      } finally {
        spy.mockRestore();
      }

      expect(failing.sent).toEqual([]);
      expect(healthy.sent).toHaveLength(1);
      expect(streams).toHaveLength(1);
      expect(await broken.next()).toEqual({ value: undefined, done: true });
    });

    it('sends nothing on a socket that is closing', async () => {
      const { executions, subscribe, publish } = fixture();
      const socket = new FakeSocket();
      executions.deliverDirectly(await subscribe('subscription { shared { name } }'), socket, '1');
      socket.readyState = 2;

      publish('de.app.twelve', 'INSTALLED');

      expect(socket.sent).toEqual([]);
    });

    it('leaves a subscription that does not share to graphql-ws', async () => {
      const { executions, subscribe, publish } = fixture();
      const socket = new FakeSocket();
      const stream = await subscribe('subscription { private { name } }');
      executions.deliverDirectly(stream, socket, '1');

      publish('de.app.thirteen', 'INSTALLED');

      expect(socket.sent).toEqual([]);
      expect((await next(stream)).data).toEqual({ private: { name: 'de.app.thirteen' } });
    });
  });
});
