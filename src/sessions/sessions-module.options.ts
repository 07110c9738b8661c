import { DEFAULT_LOGIN_THROTTLE, LoginThrottleOptions } from './login-throttle';

/** Options of `SessionsModule.forRoot` (AppModuleOptions.sessions). */
export interface SessionsModuleOptions {
  /** How long a session lasts from login. Default 12 h. */
  readonly sessionTtlMs?: number;
  /** How often each instance looks for expired sessions to end. Default 1 min. */
  readonly sweepIntervalMs?: number;
  /** Failed-login throttling (see LoginThrottle). */
  readonly throttle?: Partial<LoginThrottleOptions>;
}

export interface ResolvedSessionsOptions {
  readonly sessionTtlMs: number;
  readonly sweepIntervalMs: number;
  readonly throttle: LoginThrottleOptions;
}

export const SESSIONS_MODULE_OPTIONS = Symbol('SESSIONS_MODULE_OPTIONS');

export function resolveSessionsOptions(options: SessionsModuleOptions): ResolvedSessionsOptions {
  const resolved: ResolvedSessionsOptions = {
    sessionTtlMs: options.sessionTtlMs ?? 12 * 3_600_000,
    sweepIntervalMs: options.sweepIntervalMs ?? 60_000,
    throttle: { ...DEFAULT_LOGIN_THROTTLE, ...options.throttle },
  };
  const numbers = { sessionTtlMs: resolved.sessionTtlMs, sweepIntervalMs: resolved.sweepIntervalMs, ...resolved.throttle };
  for (const [name, value] of Object.entries(numbers)) {
    if (!(Number.isFinite(value) && value > 0)) throw new Error(`SessionsModule option ${name} must be a positive number (got ${value})`);
  }
  return resolved;
}
