import { Type } from 'class-transformer';
import { IsIn, IsNotEmpty, IsOptional, IsString, ValidateNested } from 'class-validator';
import { defineEvent } from '../event-bus/event-definition';

/**
 * The events the permissions domain publishes. `permission.invalidate` keeps
 * its present-tense name because it is part of the public contract (DESIGN.md).
 */
export const PermissionEvents = {
  INVALIDATE: 'permission.invalidate',
} as const;

/** What changed the permissions, for the audit log and operators; caches only need `pattern`. */
export const PERMISSION_CHANGES = ['granted', 'revoked', 'user-deleted', 'role-changed'] as const;
export type PermissionChange = (typeof PERMISSION_CHANGES)[number];

/** The grant a `granted` or `revoked` change concerns. */
export class PermissionGrantDescription {
  @IsIn(['USER', 'APP'])
  subjectType!: 'USER' | 'APP';

  @IsString()
  @IsNotEmpty()
  subject!: string;

  @IsString()
  @IsNotEmpty()
  action!: string;

  @IsString()
  @IsNotEmpty()
  resource!: string;
}

export class PermissionInvalidatePayload {
  /** The app whose grants changed, when the change concerns one app. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  appName?: string;

  /** Pattern of the permission cache entries to drop, e.g. `user:42:*` or `app:de.easy-m.todos:*`. */
  @IsString()
  @IsNotEmpty()
  pattern!: string;

  @IsOptional()
  @IsIn(PERMISSION_CHANGES)
  change?: PermissionChange;

  @IsOptional()
  @ValidateNested()
  @Type(() => PermissionGrantDescription)
  grant?: PermissionGrantDescription;

  /** Who made the change: a user id, or `system`. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  changedBy?: string;
}

export const PERMISSION_EVENT_DEFINITIONS = [
  defineEvent({
    type: PermissionEvents.INVALIDATE,
    payload: PermissionInvalidatePayload,
    version: 1,
    aggregateType: 'permission',
    aggregateId: (payload) => payload.appName ?? payload.pattern,
  }),
] as const;
