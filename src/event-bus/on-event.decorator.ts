import { SetMetadata } from '@nestjs/common';
import { EventHandler, SubscribeOptions } from './event-bus';
import { EnvelopeFor } from './event-envelope';

export const ON_EVENT_METADATA = Symbol('appserver:on-event');

export interface OnEventMetadata {
  readonly pattern: string;
  readonly options: SubscribeOptions;
}

/**
 * Subscribes the decorated provider method to `pattern` at bootstrap, exactly
 * as `EventBus.subscribe` would. The compiler checks the method accepts the
 * events the pattern can match.
 */
export function OnEvent<P extends string>(pattern: P, options: SubscribeOptions = {}) {
  return <M extends EventHandler<EnvelopeFor<P>>>(target: object, key: string | symbol, descriptor: TypedPropertyDescriptor<M>) => {
    SetMetadata(ON_EVENT_METADATA, { pattern, options } satisfies OnEventMetadata)(target, key, descriptor);
    return descriptor;
  };
}
