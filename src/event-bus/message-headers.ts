/**
 * Header names AppServer sets on retried and dead-lettered messages. The
 * dead-letter headers say why a message is there, for the operator reading it.
 */
export const MessageHeaders = {
  /** Failed handler attempts so far (on retries and dead letters). */
  ATTEMPTS: 'x-appserver-attempts',
  FAILURE_KIND: 'x-appserver-failure-kind',
  ERROR: 'x-appserver-error',
  HANDLER: 'x-appserver-handler',
  ORIGINAL_ROUTING_KEY: 'x-appserver-original-routing-key',
  ORIGINAL_QUEUE: 'x-appserver-original-queue',
  FIRST_FAILURE_AT: 'x-appserver-first-failure-at',
  LAST_FAILURE_AT: 'x-appserver-last-failure-at',
} as const;

/** Why a message was dead-lettered. */
export type FailureKind =
  | 'retries-exhausted'
  | 'non-retryable'
  | 'undecodable'
  | 'invalid-envelope'
  | 'unknown-type'
  | 'unsupported-version'
  | 'invalid-payload'
  /** `sourceAppName` names an app that may not publish this event type (see EventSourceAuthorizer). */
  | 'unauthorized-source';
