import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable } from '@nestjs/common';

/** The causal context events are published in. */
export interface EventContextValue {
  readonly correlationId: string;
  /** The event being handled, which becomes the cause of events published now. */
  readonly causationId?: string;
}

/**
 * Carries the correlation and causation ids across async calls, so a request
 * (or a handler) that publishes stamps its events without passing ids around.
 */
@Injectable()
export class EventContext {
  private readonly storage = new AsyncLocalStorage<EventContextValue>();

  run<R>(value: EventContextValue, fn: () => R): R;
  /** With arguments for `fn`, so a hot caller need not allocate a closure. */
  run<R, A extends unknown[]>(value: EventContextValue, fn: (...args: A) => R, ...args: A): R;
  run<R, A extends unknown[]>(value: EventContextValue, fn: (...args: A) => R, ...args: A): R {
    return this.storage.run(value, fn, ...args);
  }

  current(): EventContextValue | undefined {
    return this.storage.getStore();
  }
}
