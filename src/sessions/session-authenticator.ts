import { Injectable } from '@nestjs/common';
import { IsNull, MoreThan } from 'typeorm';
import { UserPrincipal } from '../common/principal';
import { UnitOfWork } from '../database/unit-of-work';
import { UserEntity } from '../users/user.entity';
import { UserRole } from '../users/user-role';
import { SessionCache, SessionState, SessionTokenRef } from './session-cache';
import { SessionEntity } from './session.entity';
import { bearerTokenOf, hashSessionToken, isWellFormedSessionToken } from './session-token';

/**
 * Turns a session token into the principal it stands for: once per HTTP
 * request (GraphQL context) and once per WebSocket connection
 * (`connectionParams.authorization`). Null for a missing, malformed, unknown,
 * ended or expired token, or one whose user has been deleted; never throws
 * for a bad token. The token is only hashed, never logged or kept.
 *
 * Reads through the `sessions` cache namespace in two steps (why two: see
 * session-cache-keys.ts): the token's hash → which session it opens, then
 * that session → whether it is open and its user's email and role. A request
 * whose session is in L1 touches neither Redis nor the database.
 *
 * Who drops what, so that an ended session is refused at once by the instance
 * that ended it and by every other one as soon as the event arrives:
 * - logout, revocation and the sweeper drop the session's state after their
 *   commit, before they return (SessionsService, SessionSweeper);
 * - a change or deletion of the user drops all their sessions' states after
 *   its commit (UsersService: email and role are part of the principal);
 * - every instance drops them again on `session.revoked`, `session.expired`,
 *   `user.updated` and `user.deleted` (SessionsCacheInvalidator);
 * - and an open session is never cached past its expiry (SessionCache.state),
 *   on top of the expiry check here.
 */
@Injectable()
export class SessionAuthenticator {
  constructor(
    private readonly unitOfWork: UnitOfWork,
    private readonly cache: SessionCache,
  ) {}

  /** `authorization` as sent: `Bearer <token>`. */
  authenticateAuthorization(authorization: unknown): Promise<UserPrincipal | null> {
    const token = bearerTokenOf(authorization);
    return token === null ? Promise.resolve(null) : this.authenticate(token);
  }

  async authenticate(token: string): Promise<UserPrincipal | null> {
    if (!isWellFormedSessionToken(token)) return null;
    const tokenHash = hashSessionToken(token);
    const ref = await this.cache.tokenRef(tokenHash, () => this.loadTokenRef(tokenHash));
    if (!ref) return null;
    const state = await this.cache.state(ref, () => this.loadState(ref));
    // The cache never keeps a state past its expiry; checked again for the last milliseconds of an L1 entry.
    if (!state || Date.parse(state.expiresAt) <= Date.now()) return null;
    return { kind: 'user', userId: ref.userId, email: state.email, isAdmin: state.role === UserRole.ADMIN, sessionId: ref.sessionId };
  }

  /** Which session has this token, open or not: the answer never changes, so it is cached without regard to the session's state. */
  private async loadTokenRef(tokenHash: string): Promise<SessionTokenRef | null> {
    const session = await this.unitOfWork.read((manager) => manager.findOne(SessionEntity, { select: { id: true, userId: true }, where: { tokenHash } }));
    return session && { sessionId: session.id, userId: session.userId };
  }

  /**
   * The session if it is open and unexpired, with its user's email and role;
   * null if it has ended or expired, or its user is gone. Two indexed reads by
   * primary key (entity reads, so dates come back as Dates on every database),
   * made only on a miss of both cache levels.
   */
  private loadState(ref: SessionTokenRef): Promise<SessionState | null> {
    return this.unitOfWork.read(async (manager) => {
      const session = await manager.findOne(SessionEntity, {
        select: { id: true, expiresAt: true },
        where: { id: ref.sessionId, userId: ref.userId, endedAt: IsNull(), expiresAt: MoreThan(new Date()) },
      });
      if (!session) return null;
      const user = await manager.findOne(UserEntity, { select: { id: true, email: true, role: true }, where: { id: ref.userId } });
      return user && { email: user.email, role: user.role, expiresAt: session.expiresAt.toISOString() };
    });
  }
}
