/**
 * A per-client subscription stream with a bounded buffer. The server pushes
 * values in; graphql-ws pulls them out as fast as the client's socket drains.
 * A client that falls `capacity` values behind is cut off (`onOverflow`)
 * instead of letting its buffer grow or slowing anyone else down.
 */
export class BoundedStream<T> implements AsyncIterableIterator<T> {
  private readonly buffer: T[] = [];
  private waiting?: (result: IteratorResult<T>) => void;
  private ended = false;

  constructor(
    private readonly capacity: number,
    private readonly onOverflow: () => void,
    /** Called once when the stream ends, whoever ends it (client unsubscribes, socket closes, server closes it). */
    private readonly onEnd: () => void,
  ) {}

  get closed(): boolean {
    return this.ended;
  }

  /** Delivers `value`, or cuts the client off when its buffer is full. Never blocks. */
  push(value: T): void {
    if (this.ended) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value, done: false });
      return;
    }
    if (this.buffer.length >= this.capacity) {
      this.end();
      this.onOverflow();
      return;
    }
    this.buffer.push(value);
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
    this.buffer.length = 0;
    const resolve = this.waiting;
    this.waiting = undefined;
    resolve?.({ value: undefined, done: true });
    this.onEnd();
  }
}
