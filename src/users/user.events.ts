import { ArrayNotEmpty, IsArray, IsEmail, IsIn, IsNotEmpty, IsOptional, IsString, IsUUID } from 'class-validator';
import { defineEvent } from '../event-bus/event-definition';

/** The events the users domain publishes. They never carry a password or its hash. */
export const UserEvents = {
  CREATED: 'user.created',
  UPDATED: 'user.updated',
  DELETED: 'user.deleted',
} as const;

/**
 * Envelope metadata of `user.updated`: the session the change was made in, when
 * a user made it. A changed password ends the user's other sessions, not this one.
 */
export const ACTOR_SESSION_METADATA = 'actorSessionId';

/** The fields `user.updated` may name in `changedFields` (a changed password is named, never shown). */
export const USER_UPDATABLE_FIELDS = ['email', 'displayName', 'password', 'role'] as const;

abstract class UserPayload {
  @IsUUID()
  userId!: string;
}

export class UserCreatedPayload extends UserPayload {
  @IsEmail()
  email!: string;

  @IsOptional()
  @IsString()
  displayName?: string;

  @IsOptional()
  @IsIn(['ADMIN', 'USER'])
  role?: 'ADMIN' | 'USER';

  /** Who created the user: a user id, or `system` for the first admin created at boot. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  createdBy?: string;
}

export class UserUpdatedPayload extends UserPayload {
  @IsArray()
  @ArrayNotEmpty()
  @IsIn(USER_UPDATABLE_FIELDS, { each: true })
  changedFields!: string[];

  @IsOptional()
  @IsString()
  @IsNotEmpty()
  updatedBy?: string;
}

export class UserDeletedPayload extends UserPayload {
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  deletedBy?: string;
}

const byUserId = (payload: UserPayload) => payload.userId;

export const USER_EVENT_DEFINITIONS = [
  defineEvent({ type: UserEvents.CREATED, payload: UserCreatedPayload, version: 1, aggregateType: 'user', aggregateId: byUserId }),
  defineEvent({ type: UserEvents.UPDATED, payload: UserUpdatedPayload, version: 1, aggregateType: 'user', aggregateId: byUserId }),
  defineEvent({ type: UserEvents.DELETED, payload: UserDeletedPayload, version: 1, aggregateType: 'user', aggregateId: byUserId }),
] as const;
