import { Injectable } from '@nestjs/common';
import { CacheService } from '../cache/cache.service';
import { NamespacedCache } from '../cache/namespaced-cache';
import { UserRole } from '../users/user-role';
import { sessionCacheKey, sessionTokenCacheKey, userSessionsCachePattern } from './session-cache-keys';

/** Which session a token opens: fixed for the token's whole life, so this entry never needs dropping. */
export interface SessionTokenRef {
  readonly sessionId: string;
  readonly userId: string;
}

/** What the authenticator needs of an open session and its user; `expiresAt` is an ISO string. */
export interface SessionState {
  readonly email: string;
  readonly role: UserRole;
  readonly expiresAt: string;
}

/**
 * How long an unknown token is remembered as unknown. Short, and shorter than
 * the namespace's negative TTL: being wrong is impossible (a token exists only
 * once login has committed its session, and is never seen before that), so
 * this only spares the database a client retrying a stale or garbage token;
 * anything longer would just let junk tokens crowd L1 and Redis.
 */
export const UNKNOWN_TOKEN_TTL_MS = 5_000;

/**
 * The `sessions` cache namespace (keys: session-cache-keys.ts). It holds two
 * kinds of values under disjoint key prefixes — token references under
 * `token:`, session states under `user:` — so this class is the one place
 * that reads or writes it, and the only one that knows which prefix holds
 * which type: `tokens` and `states` are two typed views of the one namespace
 * (the same L1, the same Redis keys, the same counters), each used only with
 * its own prefix.
 */
@Injectable()
export class SessionCache {
  private readonly tokens: NamespacedCache<SessionTokenRef>;
  private readonly states: NamespacedCache<SessionState>;

  constructor(cache: CacheService) {
    this.tokens = cache.namespace<SessionTokenRef>('sessions');
    this.states = cache.namespace<SessionState>('sessions');
  }

  /** The session a token (by its hash) opens, or null when no session has this token (remembered briefly). */
  tokenRef(tokenHash: string, load: () => Promise<SessionTokenRef | null>): Promise<SessionTokenRef | null> {
    return this.tokens.getOrLoad(sessionTokenCacheKey(tokenHash), load, {
      maxTtlMs: (ref) => (ref === null ? UNKNOWN_TOKEN_TTL_MS : Infinity),
    });
  }

  /**
   * The state of an open session, or null when it has ended, expired or lost
   * its user. An open session is cached no longer than it has left to live, so
   * no level can hand it out past its expiry (the authenticator checks the
   * expiry again all the same); null is final — a session never reopens.
   */
  state(ref: SessionTokenRef, load: () => Promise<SessionState | null>): Promise<SessionState | null> {
    return this.states.getOrLoad(sessionCacheKey(ref.userId, ref.sessionId), load, {
      maxTtlMs: (state) => (state === null ? Infinity : Date.parse(state.expiresAt) - Date.now()),
    });
  }

  /**
   * Drops one session's state from this instance's L1 and from Redis. Call it
   * after the commit that ended the session, never inside the transaction.
   * Never fails (see NamespacedCache).
   */
  dropSession(userId: string, sessionId: string): Promise<void> {
    return this.states.invalidate(sessionCacheKey(userId, sessionId));
  }

  /** Drops the state of every session of `userId` (their email or role changed, or they are gone). */
  dropSessionsOfUser(userId: string): Promise<void> {
    return this.states.invalidatePattern(userSessionsCachePattern(userId));
  }
}
