import { IsArray, IsEmail, IsOptional, IsString, IsUUID } from 'class-validator';
import { defineEvent } from '../event-bus/event-definition';

/** The events the users domain publishes. They never carry a password or its hash. */
export const UserEvents = {
  CREATED: 'user.created',
  UPDATED: 'user.updated',
  DELETED: 'user.deleted',
} as const;

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
}

export class UserUpdatedPayload extends UserPayload {
  @IsArray()
  @IsString({ each: true })
  changedFields!: string[];
}

export class UserDeletedPayload extends UserPayload {}

const byUserId = (payload: UserPayload) => payload.userId;

export const USER_EVENT_DEFINITIONS = [
  defineEvent({ type: UserEvents.CREATED, payload: UserCreatedPayload, version: 1, aggregateType: 'user', aggregateId: byUserId }),
  defineEvent({ type: UserEvents.UPDATED, payload: UserUpdatedPayload, version: 1, aggregateType: 'user', aggregateId: byUserId }),
  defineEvent({ type: UserEvents.DELETED, payload: UserDeletedPayload, version: 1, aggregateType: 'user', aggregateId: byUserId }),
] as const;
