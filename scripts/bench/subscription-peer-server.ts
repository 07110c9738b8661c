/**
 * The peer of bench:subscriptions: a bare graphql-ws server with nothing but
 * what the protocol needs. A `ws` WebSocketServer on /graphql with graphql-ws's
 * `useServer`, a graphql-js schema whose `Subscription.appStateChanged` has
 * the same argument and App type as AppServer's, fed by a minimal in-memory
 * PubSub; `POST /publish?state=...` publishes one change to every subscriber
 * and responds once it has been handed to them. A client must send
 * `connectionParams.authorization = 'Bearer <PEER_TOKEN>'` (a string compare,
 * no database), as AppServer's clients send theirs.
 *
 *   PEER_PORT=4000 PEER_TOKEN=secret ts-node --transpile-only scripts/bench/subscription-peer-server.ts
 */
import { randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import {
  GraphQLEnumType,
  GraphQLID,
  GraphQLInputObjectType,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLScalarType,
  GraphQLString,
} from 'graphql';
import { dirname } from 'node:path';
import type { WebSocketServer as WebSocketServerType } from 'ws';

/**
 * graphql-ws and ws as AppServer runs them: @nestjs/graphql brings its own copies (graphql-ws 6.2 and ws 8.21
 * at the time of writing, next to the project's 6.4 and 8.23), and the peer should differ from AppServer in
 * AppServer's code only. Resolved from @nestjs/graphql's directory, so the project's copies are the fallback.
 * (Loaded with require: `graphql-ws/use/ws` is published through package exports, which this project's module
 * resolution does not read for types.)
 */
const NEST_GRAPHQL = dirname(require.resolve('@nestjs/graphql/package.json'));
const load = (name: string): unknown => require(require.resolve(name, { paths: [NEST_GRAPHQL, __dirname] }));
const { useServer } = load('graphql-ws/use/ws') as typeof import('graphql-ws/dist/use/ws');
const { WebSocketServer } = load('ws') as { WebSocketServer: typeof WebSocketServerType };
/** The versions in use, for the bench's header. */
export const PEER_LIBRARIES = {
  'graphql-ws': (load('graphql-ws/package.json') as { version: string }).version,
  ws: (load('ws/package.json') as { version: string }).version,
};

interface AppPayload {
  readonly id: string;
  readonly name: string;
  readonly state: string;
  readonly version: string;
  readonly installedAt: Date;
  readonly updatedAt: Date;
}

interface Event {
  readonly appStateChanged: AppPayload;
}

/** One subscriber's stream: values pushed in by `publish`, pulled out by graphql-ws. */
class Stream implements AsyncIterableIterator<Event> {
  private readonly buffer: Event[] = [];
  private waiting?: (result: IteratorResult<Event>) => void;
  private done = false;

  constructor(private readonly onEnd: () => void) {}

  push(value: Event): void {
    if (this.done) return;
    const resolve = this.waiting;
    if (resolve) {
      this.waiting = undefined;
      resolve({ value, done: false });
    } else this.buffer.push(value);
  }

  next(): Promise<IteratorResult<Event>> {
    if (this.buffer.length > 0) return Promise.resolve({ value: this.buffer.shift()!, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<Event>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Event> {
    return this;
  }

  private end(): void {
    if (this.done) return;
    this.done = true;
    this.buffer.length = 0;
    this.waiting?.({ value: undefined, done: true });
    this.waiting = undefined;
    this.onEnd();
  }
}

/** The smallest PubSub that does the job: a set of subscribers, each with an optional name filter. */
class PubSub {
  private readonly subscribers = new Set<{ names?: ReadonlySet<string>; stream: Stream }>();

  subscribe(names?: readonly string[]): AsyncIterableIterator<Event> {
    const subscriber = { names: names ? new Set(names) : undefined, stream: new Stream(() => this.subscribers.delete(subscriber)) };
    this.subscribers.add(subscriber);
    return subscriber.stream;
  }

  publish(event: Event): number {
    let delivered = 0;
    for (const { names, stream } of this.subscribers) {
      if (names && !names.has(event.appStateChanged.name)) continue;
      stream.push(event);
      delivered++;
    }
    return delivered;
  }
}

const pubsub = new PubSub();

const AppState = new GraphQLEnumType({
  name: 'AppState',
  values: { REGISTERED: {}, INSTALLED: {}, UNINSTALLED: {}, DEREGISTERED: {} },
});

/** As @nestjs/graphql's GraphQLISODateTime serializes a Date. */
const DateTime = new GraphQLScalarType({
  name: 'DateTime',
  serialize: (value) => (value instanceof Date ? value.toISOString() : value),
});

const App = new GraphQLObjectType({
  name: 'App',
  fields: {
    id: { type: new GraphQLNonNull(GraphQLID) },
    name: { type: new GraphQLNonNull(GraphQLString) },
    state: { type: new GraphQLNonNull(AppState) },
    version: { type: new GraphQLNonNull(GraphQLString) },
    installedAt: { type: DateTime },
    updatedAt: { type: new GraphQLNonNull(DateTime) },
  },
});

const AppStateFilter = new GraphQLInputObjectType({
  name: 'AppStateFilter',
  fields: { appNames: { type: new GraphQLList(new GraphQLNonNull(GraphQLString)) } },
});

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString, resolve: () => 'ok' } } }),
  subscription: new GraphQLObjectType({
    name: 'Subscription',
    fields: {
      appStateChanged: {
        type: new GraphQLNonNull(App),
        args: { filter: { type: AppStateFilter } },
        subscribe: (_root, args: { filter?: { appNames?: string[] } }) => pubsub.subscribe(args.filter?.appNames),
      },
    },
  }),
});

const port = Number(process.env.PEER_PORT ?? 4000);
const expectedAuthorization = `Bearer ${process.env.PEER_TOKEN ?? ''}`;
const appId = randomUUID();

function handle(request: IncomingMessage, response: ServerResponse): void {
  const url = new URL(request.url ?? '/', 'http://peer');
  if (request.method === 'GET' && url.pathname === '/health') {
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    return;
  }
  if (request.method === 'POST' && url.pathname === '/publish') {
    request.resume();
    request.on('end', () => {
      const state = url.searchParams.get('state') ?? 'INSTALLED';
      const name = url.searchParams.get('name') ?? 'de.bench.subscriptions';
      const at = new Date();
      // Built once per event, as AppServer's bridge builds its App once per event.
      const event: Event = { appStateChanged: { id: appId, name, state, version: '1.0.0', installedAt: at, updatedAt: at } };
      const delivered = pubsub.publish(event);
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ delivered }));
    });
    return;
  }
  response.writeHead(404).end();
}

const server = createServer(handle);
const wss = new WebSocketServer({ server, path: '/graphql' });
const disposable = useServer(
  {
    schema,
    onConnect: (ctx) => ctx.connectionParams?.authorization === expectedAuthorization,
  },
  wss,
);

server.listen(port, '127.0.0.1', () =>
  process.stdout.write(`peer listening on ${port} with graphql-ws ${PEER_LIBRARIES['graphql-ws']}, ws ${PEER_LIBRARIES.ws}\n`),
);

process.on('SIGTERM', () => {
  void Promise.resolve(disposable.dispose()).finally(() => {
    for (const client of wss.clients) client.terminate();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  });
});
