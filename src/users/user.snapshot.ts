import { UserEntity } from './user.entity';
import { UserRole } from './user-role';

/** A user as reads outside authentication see them: everything but the password hash. */
export type UserProfile = Omit<UserEntity, 'passwordHash'>;

/**
 * A user as the `users` cache namespace holds them: a plain object that
 * survives JSON unchanged (dates as ISO strings), and without the password
 * hash — it has no business in Redis, and nothing that reads through the cache
 * needs it (login and password checks read the row itself).
 */
export interface UserSnapshot {
  readonly id: string;
  readonly email: string;
  readonly displayName: string | null;
  readonly role: UserRole;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** The cache key of a user looked up by id, the one thing every user.* event carries. */
export function userCacheKey(userId: string): string {
  return `id:${userId}`;
}

export function toUserSnapshot(user: UserProfile): UserSnapshot {
  return {
    id: user.id,
    email: user.email,
    displayName: user.displayName,
    role: user.role,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
  };
}

/** A new object each call: callers may change it without touching the cached snapshot. */
export function fromUserSnapshot(snapshot: UserSnapshot): UserProfile {
  return {
    id: snapshot.id,
    email: snapshot.email,
    displayName: snapshot.displayName,
    role: snapshot.role,
    createdAt: new Date(snapshot.createdAt),
    updatedAt: new Date(snapshot.updatedAt),
  };
}
