/**
 * Keys of the `sessions` cache namespace, in one place for the authenticator,
 * the writers (logout, revocation, expiry; user changes in UsersService) and
 * the broadcast invalidators to agree on:
 *
 *   token:<sha256 hex of the token>      → SessionTokenRef { sessionId, userId }
 *   user:<userId>:session:<sessionId>    → SessionState { email, role, expiresAt }
 *
 * Why two entries rather than one keyed by the token: the session events
 * carry the session and user ids but never the token nor its hash (see
 * session.events.ts), so an entry keyed by the token could not be dropped by
 * any instance that receives `session.revoked`. The split puts what never
 * changes — which session a token opens — under the token, and everything
 * that can change (the session ended or expired, the user's email or role
 * changed, the user deleted) under a key every event can name:
 * `session.revoked`/`session.expired` name one session, and
 * `user.updated`/`user.deleted` drop all of a user's sessions with one
 * pattern, `user:<userId>:*` (one prefix-generation bump in Redis, however
 * many sessions the user has; see l2-key-layout.ts).
 *
 * The token entry is keyed by the SHA-256 of the token, as the database keys
 * it: Redis (and a heap dump) never holds a token that logs anyone in.
 */
export function sessionTokenCacheKey(tokenHash: string): string {
  return `token:${tokenHash}`;
}

/** The key of what can change about a session: whether it is open, and its user's email and role. */
export function sessionCacheKey(userId: string, sessionId: string): string {
  return `user:${userId}:session:${sessionId}`;
}

/** Every cached session of `userId` (not their token entries, which never go stale). */
export function userSessionsCachePattern(userId: string): string {
  return `user:${userId}:*`;
}
