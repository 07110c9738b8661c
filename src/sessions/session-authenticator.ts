import { Injectable } from '@nestjs/common';
import { UserPrincipal } from '../common/principal';
import { UnitOfWork } from '../database/unit-of-work';
import { UserEntity } from '../users/user.entity';
import { UserRole } from '../users/user-role';
import { SessionEntity } from './session.entity';
import { bearerTokenOf, hashSessionToken, isWellFormedSessionToken } from './session-token';

interface ActiveSessionRow {
  sessionId: string;
  userId: string;
  email: string;
  role: UserRole;
}

/**
 * Turns a session token into the principal it stands for: once per HTTP
 * request (GraphQL context) and once per WebSocket connection
 * (`connectionParams.authorization`). Null for a missing, malformed, unknown,
 * ended or expired token, or one whose user has been deleted; never throws
 * for a bad token. The token is only hashed, never logged or kept.
 */
@Injectable()
export class SessionAuthenticator {
  constructor(private readonly unitOfWork: UnitOfWork) {}

  /** `authorization` as sent: `Bearer <token>`. */
  authenticateAuthorization(authorization: unknown): Promise<UserPrincipal | null> {
    const token = bearerTokenOf(authorization);
    return token === null ? Promise.resolve(null) : this.authenticate(token);
  }

  async authenticate(token: string): Promise<UserPrincipal | null> {
    if (!isWellFormedSessionToken(token)) return null;
    // One indexed lookup; joining the user means a deleted user's token stops working at once, and a role change counts from the next request.
    const row = await this.unitOfWork.read((manager) =>
      manager
        .createQueryBuilder(SessionEntity, 's')
        .innerJoin(UserEntity, 'u', 'u.id = s.user_id')
        .select(['s.id AS "sessionId"', 'u.id AS "userId"', 'u.email AS "email"', 'u.role AS "role"'])
        .where('s.token_hash = :hash', { hash: hashSessionToken(token) })
        .andWhere('s.ended_at IS NULL')
        .andWhere('s.expires_at > :now', { now: new Date() })
        .getRawOne<ActiveSessionRow>(),
    );
    if (!row) return null;
    return { kind: 'user', userId: row.userId, email: row.email, isAdmin: row.role === UserRole.ADMIN, sessionId: row.sessionId };
  }
}
