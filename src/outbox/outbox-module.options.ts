/** Options of `OutboxModule.forRoot`. */
export interface OutboxModuleOptions {
  /**
   * Whether this instance runs a relay. false: events are recorded but only
   * other instances (or a later start) publish them. Default true.
   */
  readonly relayEnabled?: boolean;
  /** Events per publish (one round of publisher confirms). Default 100. */
  readonly batchSize?: number;
  /** The relay is woken after each commit; this sweep catches anything else (e.g. rows committed by an instance that died). Default 1 s. */
  readonly sweepIntervalMs?: number;
  /** How long published rows are kept (for inspection) before they are deleted. Default 10 min. */
  readonly retentionMs?: number;
  /** Backoff after a failed publish: first delay, doubling per attempt with jitter. Default 500 ms. */
  readonly retryDelayMs?: number;
  /** Longest backoff. Default 30 s. */
  readonly maxRetryDelayMs?: number;
}

export type ResolvedOutboxOptions = Required<OutboxModuleOptions>;

export function resolveOutboxOptions(options: OutboxModuleOptions): ResolvedOutboxOptions {
  const resolved: ResolvedOutboxOptions = {
    relayEnabled: options.relayEnabled ?? true,
    batchSize: options.batchSize ?? 100,
    sweepIntervalMs: options.sweepIntervalMs ?? 1000,
    retentionMs: options.retentionMs ?? 10 * 60_000,
    retryDelayMs: options.retryDelayMs ?? 500,
    maxRetryDelayMs: options.maxRetryDelayMs ?? 30_000,
  };
  for (const [name, value] of Object.entries(resolved)) {
    if (typeof value === 'number' && !(Number.isFinite(value) && value > 0)) {
      throw new Error(`OutboxModule option ${name} must be a positive number (got ${value})`);
    }
  }
  return resolved;
}

export const OUTBOX_MODULE_OPTIONS = Symbol('OUTBOX_MODULE_OPTIONS');
