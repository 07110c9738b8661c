import { IsIn, IsISO8601, IsOptional, IsString, IsUUID } from 'class-validator';
import { defineEvent } from '../event-bus/event-definition';

/** The events the sessions domain publishes. They never carry the token (nor its hash). */
export const SessionEvents = {
  CREATED: 'session.created',
  REVOKED: 'session.revoked',
  EXPIRED: 'session.expired',
} as const;

/** Why a session was ended before its expiry. */
export const SESSION_REVOCATION_REASONS = ['logout', 'revoked', 'user-deleted'] as const;
export type SessionRevocationReason = (typeof SESSION_REVOCATION_REASONS)[number];

abstract class SessionPayload {
  @IsUUID()
  sessionId!: string;

  @IsUUID()
  userId!: string;
}

export class SessionCreatedPayload extends SessionPayload {
  @IsISO8601()
  expiresAt!: string;
}

export class SessionRevokedPayload extends SessionPayload {
  /** Who ended it: the user id of the actor, or `system`. */
  @IsOptional()
  @IsString()
  revokedBy?: string;

  @IsOptional()
  @IsIn(SESSION_REVOCATION_REASONS)
  reason?: SessionRevocationReason;
}

export class SessionExpiredPayload extends SessionPayload {}

const bySessionId = (payload: SessionPayload) => payload.sessionId;

export const SESSION_EVENT_DEFINITIONS = [
  defineEvent({ type: SessionEvents.CREATED, payload: SessionCreatedPayload, version: 1, aggregateType: 'session', aggregateId: bySessionId }),
  defineEvent({ type: SessionEvents.REVOKED, payload: SessionRevokedPayload, version: 1, aggregateType: 'session', aggregateId: bySessionId }),
  defineEvent({ type: SessionEvents.EXPIRED, payload: SessionExpiredPayload, version: 1, aggregateType: 'session', aggregateId: bySessionId }),
] as const;
