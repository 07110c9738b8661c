import { IsNotEmpty, IsOptional, IsString } from 'class-validator';
import { defineEvent } from '../event-bus/event-definition';

/**
 * The events the permissions domain publishes. `permission.invalidate` keeps
 * its present-tense name because it is part of the public contract (DESIGN.md).
 */
export const PermissionEvents = {
  INVALIDATE: 'permission.invalidate',
} as const;

export class PermissionInvalidatePayload {
  /** The app whose grants changed, when the change concerns one app. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  appName?: string;

  /** Pattern of the permission cache entries to drop, e.g. `user:42:*`. */
  @IsString()
  @IsNotEmpty()
  pattern!: string;
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
