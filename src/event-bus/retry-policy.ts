export interface RetryPolicy {
  /** Retries after the first failure; 0 dead-letters on the first failure. */
  readonly maxRetries: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

/**
 * Exponential backoff with "equal jitter": the delay doubles per attempt and a
 * random half of it is shaved off, so retries of many failed messages spread
 * out instead of arriving together, while never dropping below half the step.
 */
export function backoffDelay(attempt: number, initialDelayMs: number, maxDelayMs: number, random: () => number = Math.random): number {
  const step = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.max(1, Math.round(step / 2 + random() * (step / 2)));
}
