/** Thrown by a handler to send the message to the dead-letter queue at once, without retries. */
export class NonRetryableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NonRetryableError';
  }
}

/** A payload or envelope that breaks its event type's rules; `problems` name each field and why. */
export class EventValidationError extends Error {
  constructor(
    readonly eventType: string,
    readonly problems: string[],
  ) {
    super(`Invalid "${eventType}" event: ${problems.join('; ')}`);
    this.name = 'EventValidationError';
  }
}

/** The broker did not confirm a publish in time; the event was not accepted and the caller must retry. */
export class PublishTimeoutError extends Error {
  constructor(eventType: string, timeoutMs: number) {
    super(`Publishing "${eventType}" was not confirmed by the broker within ${timeoutMs} ms (is RabbitMQ reachable?)`);
    this.name = 'PublishTimeoutError';
  }
}

/** The bus was closed; it neither publishes nor subscribes any more. */
export class EventBusClosedError extends Error {
  constructor(operation: string) {
    super(`Cannot ${operation}: the event bus is closed`);
    this.name = 'EventBusClosedError';
  }
}
