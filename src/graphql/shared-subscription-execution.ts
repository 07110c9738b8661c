import { createSourceEventStream, execute, ExecutionArgs, ExecutionResult, print } from 'graphql';

type PromiseOrValue<T> = T | Promise<T>;

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
 * not marked) is graphql-js's behaviour.
 */
export class SharedSubscriptionExecution {
  /**
   * Results by event, then by the client's query: the events are the keys, so an event's results go when the
   * last client has taken it and the bridge no longer holds it — nothing to evict.
   */
  private readonly results = new WeakMap<object, Map<string, PromiseOrValue<ExecutionResult>>>();

  /** The `subscribe` option of graphql-ws. */
  readonly subscribe = async (args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> => {
    const source = await createSourceEventStream(args);
    if (!isAsyncIterable(source)) return source;
    const events = source[Symbol.asyncIterator]();
    if (!sharesExecutions(source)) return new ExecutedStream(events, (event) => execute({ ...args, rootValue: event }));
    const key = queryKey(args);
    return new ExecutedStream(events, (event) => this.resultFor(event, key, args));
  };

  private resultFor(event: unknown, key: string, args: ExecutionArgs): PromiseOrValue<ExecutionResult> {
    if (typeof event !== 'object' || event === null) return execute({ ...args, rootValue: event });
    let byQuery = this.results.get(event);
    if (!byQuery) {
      byQuery = new Map();
      this.results.set(event, byQuery);
    }
    let result = byQuery.get(key);
    if (result === undefined) {
      result = execute({ ...args, rootValue: event, contextValue: NO_CLIENT_CONTEXT });
      byQuery.set(key, result);
    }
    return result;
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
  private async endWith(error: unknown): Promise<never> {
    await this.return().catch(() => undefined);
    throw error;
  }
}
