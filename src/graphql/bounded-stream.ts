/**
 * Takes the values of a stream as they are pushed (see `BoundedStream.pushTo`); answers false when its client has
 * fallen too far behind to take more.
 */
export type StreamSink<T> = (value: T) => boolean;

/**
 * A per-client subscription stream with a bounded buffer. The server pushes
 * values in; graphql-ws pulls them out as fast as the client's socket drains.
 * A client that falls `capacity` values behind is cut off (`onOverflow`)
 * instead of letting its buffer grow or slowing anyone else down.
 * Or, once given a sink (`pushTo`), the stream hands every value to it as it is
 * pushed, and the sink says when its client is too far behind.
 */
export class BoundedStream<T> implements AsyncIterableIterator<T> {
  private readonly buffer: T[] = [];
  private waiting?: (result: IteratorResult<T>) => void;
  private sink?: StreamSink<T>;
  private ended = false;

  constructor(
    /** How many values the client may fall behind before it is cut off. */
    readonly capacity: number,
    private readonly onOverflow: () => void,
    /** Called once when the stream ends, whoever ends it (client unsubscribes, socket closes, server closes it). */
    private readonly onEnd: () => void,
  ) {}

  get closed(): boolean {
    return this.ended;
  }

  /** Delivers `value`, or cuts the client off when its buffer (or its sink) is full. Never blocks. */
  push(value: T): void {
    if (this.ended) return;
    if (this.sink) {
      if (!this.sink(value)) this.overflow();
      return;
    }
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value, done: false });
      return;
    }
    if (this.buffer.length >= this.capacity) {
      this.overflow();
      return;
    }
    this.buffer.push(value);
  }

  /**
   * From now on hands every value to `sink` as it is pushed, those buffered so far first, instead of keeping them
   * for `next()`; the stream still ends as before (`return`, `end`, or the sink saying its client is too far behind).
   */
  pushTo(sink: StreamSink<T>): void {
    if (this.ended) return;
    this.sink = sink;
    for (const value of this.buffer.splice(0)) {
      if (!sink(value)) {
        this.overflow();
        return;
      }
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.buffer.length > 0) return Promise.resolve({ value: this.buffer.shift()!, done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    this.end();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  /** Ends the stream: buffered values are dropped, a pending pull completes. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.sink = undefined;
    this.buffer.length = 0;
    const resolve = this.waiting;
    this.waiting = undefined;
    resolve?.({ value: undefined, done: true });
    this.onEnd();
  }

  private overflow(): void {
    this.end();
    this.onOverflow();
  }
}
