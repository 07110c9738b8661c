/**
 * Delays between reconnection attempts: exponential from 500 ms to 30 s with
 * equal jitter, reset once a connection succeeds, so a fleet of instances that
 * lost the broker together does not hammer it together when it returns.
 */
export class ReconnectBackoff {
  private failures = 0;

  constructor(
    private readonly minMs = 500,
    private readonly maxMs = 30_000,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt; grows with each call until `reset()`. */
  next(): number {
    const step = Math.min(this.maxMs, this.minMs * 2 ** this.failures);
    this.failures++;
    return Math.max(this.minMs, Math.round(step / 2 + this.random() * (step / 2)));
  }

  reset(): void {
    this.failures = 0;
  }
}
