import { createSourceEventStream, execute, ExecutionArgs, ExecutionResult, print } from 'graphql';
import type { StreamSink } from './bounded-stream';

type PromiseOrValue<T> = T | Promise<T>;

/** A source stream that can hand its values to a sink as they come (BoundedStream). */
interface PushableSource extends AsyncIterator<unknown> {
  /** How many values its client may fall behind before it is cut off. */
  readonly capacity: number;
  /** True once the stream has ended, for whatever reason: nothing more may be sent for it. */
  readonly closed: boolean;
  pushTo(sink: StreamSink<unknown>): void;
}

/** What direct delivery needs of a graphql-ws socket (a `ws` WebSocket). */
export interface DirectSocket {
  readonly readyState: number;
  readonly OPEN: number;
  /** Bytes accepted by `send` and not yet handed to the operating system. */
  readonly bufferedAmount: number;
  send(data: string): void;
}

export interface SharedSubscriptionExecutionOptions {
  /** What the client is sent for a result with errors: the same formatting as graphql-ws's `onNext` hook applies. */
  readonly formatErrors: (result: ExecutionResult) => unknown;
}

/** One event's execution for one query, and the JSON of the `payload` every client of that query is sent. */
interface SharedResult {
  readonly result: PromiseOrValue<ExecutionResult>;
  payload?: PromiseOrValue<string>;
}

/**
 * At most this much text held back by one client's socket, in characters (what `bufferedAmount` counts for
 * strings), before it is cut off as too slow: 100 messages of an ordinary size, but a client whose query makes
 * each message huge (aliases) cannot make the server hold 100 of those.
 */
const MAX_BACKLOG_CHARS = 256 * 1024;

/** Marks a subscription's source stream as one whose events may share their executions (see `shareExecutions`). */
const SHARED_EVENTS = Symbol('sharedEvents');

/**
 * Declares that `stream`'s events are the same objects for every client of the subscription and that the
 * selection set below its root field resolves from the event alone — no field reads the client's context.
 * Then every client with the same query text, operation name and variables gets the same result for an event,
 * and `SharedSubscriptionExecution` executes it once for all of them instead of once per client.
 */
export function shareExecutions<T extends AsyncIterableIterator<unknown>>(stream: T): T {
  return Object.defineProperty(stream, SHARED_EVENTS, { value: true });
}

function sharesExecutions(stream: object): boolean {
  return (stream as { [SHARED_EVENTS]?: boolean })[SHARED_EVENTS] === true;
}

/**
 * The context of a shared execution: nobody's. A field that (against `shareExecutions`' promise) read the
 * context would find no principal and fail, instead of serving one client's answer to another.
 */
const NO_CLIENT_CONTEXT = Object.freeze({ principal: null });

/**
 * graphql-ws's `subscribe`, as graphql-js's, with one difference: for a stream marked by `shareExecutions`,
 * an event is executed once per (query text, operation name, variables) and the result reused for every client
 * that asks the same — graphql-js executes the selection set once per client and event, which at thousands of
 * clients is most of a fan-out's CPU. Everything else (the source stream, its guards and errors, and any stream
 * not marked) is graphql-js's behaviour. With `deliverDirectly` as graphql-ws's `onOperation` hook, a shared
 * subscription's messages are also serialised once per event and query and written to the sockets as the
 * events are pushed.
 */
export class SharedSubscriptionExecution {
  /**
   * Results by event, then by the client's query: the events are the keys, so an event's results go when the
   * last client has taken it and the bridge no longer holds it — nothing to evict.
   */
  private readonly results = new WeakMap<object, Map<string, SharedResult>>();

  constructor(private readonly options: SharedSubscriptionExecutionOptions) {}

  /** The `subscribe` option of graphql-ws. */
  readonly subscribe = async (args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> => {
    const source = await createSourceEventStream(args);
    if (!isAsyncIterable(source)) return source;
    const events = source[Symbol.asyncIterator]();
    if (!sharesExecutions(source)) return new ExecutedStream(events, (event) => execute({ ...args, rootValue: event }));
    const key = queryKey(args);
    return new SharedExecutedStream(events, (event) => this.sharedFor(event, key, args), this.options.formatErrors);
  };

  /**
   * The `onOperation` hook of graphql-ws: a shared subscription from then on writes each event's `next` message
   * straight to the socket as the event is pushed — the payload serialised once per event and query — instead of
   * going through graphql-ws's per-client chain of promises, `onNext` and serialisation of the same payload. The
   * messages are those graphql-ws would send; graphql-ws still answers `complete` and ends the stream on close.
   */
  deliverDirectly(operation: unknown, socket: DirectSocket, id: string): void {
    if (operation instanceof SharedExecutedStream) operation.deliverTo(socket, id);
  }

  private sharedFor(event: unknown, key: string, args: ExecutionArgs): SharedResult {
    if (typeof event !== 'object' || event === null) return { result: execute({ ...args, rootValue: event }) };
    let byQuery = this.results.get(event);
    if (!byQuery) {
      byQuery = new Map();
      this.results.set(event, byQuery);
    }
    let shared = byQuery.get(key);
    if (shared === undefined) {
      shared = { result: execute({ ...args, rootValue: event, contextValue: NO_CLIENT_CONTEXT }) };
      byQuery.set(key, shared);
    }
    return shared;
  }
}

/** What makes two subscriptions' executions of one event the same: the operation, its variables and the query text. */
function queryKey(args: ExecutionArgs): string {
  const text = args.document.loc?.source.body ?? print(args.document);
  return `${args.operationName ?? ''}\n${JSON.stringify(args.variableValues ?? null)}\n${text}`;
}

function isAsyncIterable(value: object): value is AsyncIterable<unknown> {
  return typeof (value as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function';
}

/**
 * A source stream mapped to execution results, as graphql-js maps it: ending it ends the source. One promise per
 * event and client, where graphql-js's async generator makes several.
 */
class ExecutedStream implements AsyncIterableIterator<ExecutionResult> {
  constructor(
    private readonly source: AsyncIterator<unknown>,
    private readonly resultOf: (event: unknown) => PromiseOrValue<ExecutionResult>,
  ) {}

  next(): Promise<IteratorResult<ExecutionResult>> {
    return this.source.next().then((step) => (step.done ? { value: undefined, done: true } : this.map(step.value)));
  }

  return(): Promise<IteratorResult<ExecutionResult>> {
    return this.source.return ? this.source.return().then(() => ({ value: undefined, done: true })) : Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<ExecutionResult>> {
    return this.source.throw ? this.source.throw(error).then(() => ({ value: undefined, done: true })) : this.endWith(error);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ExecutionResult> {
    return this;
  }

  private map(event: unknown): PromiseOrValue<IteratorResult<ExecutionResult>> {
    let result: PromiseOrValue<ExecutionResult>;
    try {
      result = this.resultOf(event);
    } catch (error) {
      return this.endWith(error);
    }
    return result instanceof Promise ? result.then((value) => ({ value, done: false }), (error: unknown) => this.endWith(error)) : { value: result, done: false };
  }

  /** As graphql-js: a failed execution ends the source, then reaches graphql-ws, which sends it to the client as an error. */
  protected async endWith(error: unknown): Promise<never> {
    await this.return().catch(() => undefined);
    throw error;
  }
}

/** The stream of a shared subscription: results from the shared executions, pulled or (`deliverTo`) pushed. */
class SharedExecutedStream extends ExecutedStream {
  /** Direct delivery: an event whose execution is still running; the events after it wait, to keep the order. */
  private pending?: Promise<void>;
  /** Direct delivery: the length of the last message, to tell how many messages the socket holds back. */
  private messageLength = 0;
  /** Direct delivery: events whose execution has not finished yet (asynchronous fields only). */
  private executionsRunning = 0;
  private returned = false;

  constructor(
    private readonly events: AsyncIterator<unknown>,
    private readonly sharedFor: (event: unknown) => SharedResult,
    private readonly formatErrors: SharedSubscriptionExecutionOptions['formatErrors'],
  ) {
    super(events, (event) => sharedFor(event).result);
  }

  /**
   * Writes every event from now on to `socket` as a graphql-ws `next` message for subscription `id`, as it is
   * pushed. A client more than the source's capacity of messages behind (in what the socket has not yet handed to
   * the operating system) is cut off, as it is when its pulls fall that far behind. `next()` then only tells
   * graphql-ws when the stream has ended.
   */
  deliverTo(socket: DirectSocket, id: string): void {
    if (!isPushable(this.events)) return;
    const { capacity } = this.events;
    const prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
    const events = this.events;
    this.events.pushTo((event) => {
      // As graphql-ws: nothing is sent on a closing socket; graphql-ws ends the subscription once it has closed.
      if (socket.readyState !== socket.OPEN) return true;
      let payload: PromiseOrValue<string>;
      try {
        payload = this.payloadOf(this.sharedFor(event));
      } catch {
        // This client's result cannot be serialised: end its subscription, not the fan-out to everyone else.
        void this.return();
        return true;
      }
      if (typeof payload === 'string') this.messageLength = prefix.length + payload.length + 1;
      // Behind by `capacity` messages, or by MAX_BACKLOG_CHARS whatever their size (the query sets it), or by
      // `capacity` executions still running: too slow.
      const backlog = Math.min(capacity * this.messageLength, MAX_BACKLOG_CHARS);
      if (this.messageLength > 0 && socket.bufferedAmount > backlog) return false;
      if (this.executionsRunning >= capacity) return false;
      if (typeof payload === 'string' && !this.pending) {
        socket.send(prefix + payload + '}');
        return true;
      }
      // An execution still running (App's fields are all synchronous; another stream's may not be).
      this.executionsRunning++;
      const sent = Promise.all([this.pending, payload]).then(([, json]) => {
        this.messageLength = prefix.length + json.length + 1;
        if (!this.returned && !events.closed && socket.readyState === socket.OPEN) socket.send(prefix + json + '}');
      });
      this.pending = sent;
      sent.then(
        () => {
          this.executionsRunning--;
          if (this.pending === sent) this.pending = undefined;
        },
        // A failed execution (not a field error: those are in the result) ends the subscription.
        () => {
          this.executionsRunning--;
          void this.return();
        },
      );
      return true;
    });
  }

  override return(): Promise<IteratorResult<ExecutionResult>> {
    // An execution still running must not send after graphql-ws has finished the subscription.
    this.returned = true;
    return super.return();
  }

  /** The payload every client of this event and query is sent, serialised once. */
  private payloadOf(shared: SharedResult): PromiseOrValue<string> {
    shared.payload ??= shared.result instanceof Promise ? shared.result.then((result) => this.serialise(result)) : this.serialise(shared.result);
    return shared.payload;
  }

  private serialise(result: ExecutionResult): string {
    return JSON.stringify(result.errors ? this.formatErrors(result) : result);
  }
}

function isPushable(source: AsyncIterator<unknown>): source is PushableSource {
  return typeof (source as Partial<PushableSource>).pushTo === 'function' && typeof (source as Partial<PushableSource>).capacity === 'number';
}
