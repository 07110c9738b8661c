export interface RetryPolicy {
  /** Retries after the first failure; 0 dead-letters on the first failure. */
  readonly maxRetries: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

/**
 * Exponential backoff with jitter: the step doubles per attempt (the first is
 * the configured delay) and up to half a step is added at random, so retries of
 * many failed messages spread out instead of arriving together. Never shorter
 * than the step, never longer than maxDelayMs.
 */
export function backoffDelay(attempt: number, initialDelayMs: number, maxDelayMs: number, random: () => number = Math.random): number {
  const step = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.max(1, Math.min(maxDelayMs, Math.round(step + random() * (step / 2))));
}
