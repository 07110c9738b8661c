import { UnauthenticatedError } from '../common/app-errors';

export interface LoginThrottleOptions {
  /** Failed logins for one account (email) within `windowMs` before it is refused for `lockoutMs`. */
  readonly maxFailuresPerAccount: number;
  /** Failed logins from one client address within `windowMs` before it is refused for `lockoutMs` (higher: addresses are shared behind NAT). */
  readonly maxFailuresPerAddress: number;
  readonly windowMs: number;
  readonly lockoutMs: number;
  /** Accounts, and addresses, tracked at most; the least recently seen are forgotten first. */
  readonly maxTrackedKeys: number;
}

export const DEFAULT_LOGIN_THROTTLE: LoginThrottleOptions = {
  maxFailuresPerAccount: 5,
  maxFailuresPerAddress: 20,
  windowMs: 15 * 60_000,
  lockoutMs: 15 * 60_000,
  maxTrackedKeys: 10_000,
};

/** Refused because of earlier failures: the same answer whether or not the account exists. */
export class LoginThrottledError extends UnauthenticatedError {
  constructor(readonly retryAfterSeconds: number) {
    super(`Too many failed login attempts; try again in ${retryAfterSeconds} seconds`);
  }

  override get details(): Record<string, unknown> {
    return { retryAfterSeconds: this.retryAfterSeconds };
  }
}

/** One login in progress: counted as a failure unless `succeeded()` is called. */
export interface LoginAttempt {
  succeeded(): void;
}

interface Failures {
  count: number;
  windowStartedAt: number;
  lockedUntil: number;
}

/** Failure counts per key, bounded: a Map kept in least-recently-touched order, oldest evicted past the limit. */
class FailureCounter {
  private readonly entries = new Map<string, Failures>();

  constructor(
    private readonly maxFailures: number,
    private readonly options: LoginThrottleOptions,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  lockedUntil(key: string, now: number): number {
    const entry = this.entries.get(key);
    return entry && entry.lockedUntil > now ? entry.lockedUntil : 0;
  }

  add(key: string, now: number): void {
    let entry = this.entries.get(key);
    if (!entry || now - entry.windowStartedAt >= this.options.windowMs) entry = { count: 0, windowStartedAt: now, lockedUntil: 0 };
    entry.count++;
    if (entry.count >= this.maxFailures) entry.lockedUntil = now + this.options.lockoutMs;
    this.touch(key, entry);
  }

  /** Takes back one provisional failure (a login that succeeded). */
  remove(key: string, now: number): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    entry.count = Math.max(0, entry.count - 1);
    if (entry.count < this.maxFailures && entry.lockedUntil > now) entry.lockedUntil = 0;
    if (entry.count === 0) this.entries.delete(key);
  }

  clear(key: string): void {
    this.entries.delete(key);
  }

  private touch(key: string, entry: Failures): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.options.maxTrackedKeys) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}

/**
 * Slows down password guessing: after too many failures for one account or
 * from one address, logins there are refused for a while. The state is in
 * this instance's memory only (bounded, see `maxTrackedKeys`): with N
 * instances behind a load balancer an attacker gets up to N times the
 * allowance, and a restart forgets it. An account's counter counts unknown
 * emails just the same, so the throttle reveals nothing about who exists.
 *
 * Every attempt is counted as a failure when it starts, and taken back on
 * success: concurrent guesses cannot slip past the check while the slow
 * password verification of earlier ones is still running.
 */
export class LoginThrottle {
  private readonly accounts: FailureCounter;
  private readonly addresses: FailureCounter;

  constructor(
    options: LoginThrottleOptions = DEFAULT_LOGIN_THROTTLE,
    private readonly now: () => number = Date.now,
  ) {
    this.accounts = new FailureCounter(options.maxFailuresPerAccount, options);
    this.addresses = new FailureCounter(options.maxFailuresPerAddress, options);
  }

  /** Starts an attempt, or throws LoginThrottledError when the account or the address is locked out. */
  begin(account: string, address: string): LoginAttempt {
    const now = this.now();
    const lockedUntil = Math.max(this.accounts.lockedUntil(account, now), this.addresses.lockedUntil(address, now));
    if (lockedUntil > 0) throw new LoginThrottledError(Math.ceil((lockedUntil - now) / 1000));
    this.accounts.add(account, now);
    this.addresses.add(address, now);
    let settled = false;
    return {
      succeeded: () => {
        if (settled) return;
        settled = true;
        // The right password clears the account; the address keeps its other failures (one valid account must not reset a spraying address).
        this.accounts.clear(account);
        this.addresses.remove(address, this.now());
      },
    };
  }

  /** Keys tracked right now (for tests and metrics). */
  get trackedKeys(): { accounts: number; addresses: number } {
    return { accounts: this.accounts.size, addresses: this.addresses.size };
  }
}
