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

  run<R>(value: EventContextValue, fn: () => R): R {
    return this.storage.run(value, fn);
  }

  current(): EventContextValue | undefined {
    return this.storage.getStore();
  }
}
