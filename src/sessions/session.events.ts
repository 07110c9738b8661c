import { IsISO8601, IsOptional, IsString, IsUUID } from 'class-validator';
import { defineEvent } from '../event-bus/event-definition';

/** The events the sessions domain publishes. They never carry the token. */
export const SessionEvents = {
  CREATED: 'session.created',
  REVOKED: 'session.revoked',
  EXPIRED: 'session.expired',
} as const;

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
  @IsOptional()
  @IsString()
  revokedBy?: string;
}

export class SessionExpiredPayload extends SessionPayload {}

const bySessionId = (payload: SessionPayload) => payload.sessionId;

export const SESSION_EVENT_DEFINITIONS = [
  defineEvent({ type: SessionEvents.CREATED, payload: SessionCreatedPayload, version: 1, aggregateType: 'session', aggregateId: bySessionId }),
  defineEvent({ type: SessionEvents.REVOKED, payload: SessionRevokedPayload, version: 1, aggregateType: 'session', aggregateId: bySessionId }),
  defineEvent({ type: SessionEvents.EXPIRED, payload: SessionExpiredPayload, version: 1, aggregateType: 'session', aggregateId: bySessionId }),
] as const;
