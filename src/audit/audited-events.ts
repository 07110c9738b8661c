import { AnyEventEnvelope } from '../event-bus/event-envelope';

/** How one audited event reads in the log. */
export interface AuditDescription {
  readonly actor: string | null;
  readonly target: string;
  readonly summary: string;
}

type Describe<T extends AnyEventEnvelope['type']> = (event: Extract<AnyEventEnvelope, { type: T }>) => AuditDescription | null;

/**
 * The sensitive events the audit log keeps, and how each reads. Anything not
 * listed here, or described as null, is not audited (app lifecycle, session
 * creation and expiry, cache-only invalidations).
 */
const DESCRIBERS: { [T in AnyEventEnvelope['type']]?: Describe<T> } = {
  'user.created': ({ data }) => ({
    actor: data.createdBy ?? null,
    target: `user:${data.userId}`,
    summary: `Created ${data.role === 'ADMIN' ? 'admin' : 'user'} ${data.email}`,
  }),
  'user.updated': ({ data }) => ({
    actor: data.updatedBy ?? null,
    target: `user:${data.userId}`,
    summary: `Changed ${data.changedFields.join(', ')} of user ${data.userId}`,
  }),
  'user.deleted': ({ data }) => ({ actor: data.deletedBy ?? null, target: `user:${data.userId}`, summary: `Deleted user ${data.userId}` }),
  'session.revoked': ({ data }) => ({
    actor: data.revokedBy ?? null,
    target: `session:${data.sessionId}`,
    summary: `Ended session ${data.sessionId} of user ${data.userId} (${data.reason ?? 'revoked'})`,
  }),
  // Only grants and revocations: the invalidations that follow a role change or a deletion are told by user.updated and user.deleted.
  'permission.invalidate': ({ data: { grant, change, changedBy } }) =>
    grant
      ? {
          actor: changedBy ?? null,
          target: `${grant.subjectType === 'USER' ? 'user' : 'app'}:${grant.subject}`,
          summary:
            change === 'revoked'
              ? `Revoked ${grant.action} on ${grant.resource} from ${grant.subjectType.toLowerCase()} ${grant.subject}`
              : `Granted ${grant.action} on ${grant.resource} to ${grant.subjectType.toLowerCase()} ${grant.subject}`,
        }
      : null,
  'settings.updated': ({ data }) => ({
    actor: data.updatedBy,
    target: `app:${data.appName}`,
    summary: `Changed settings ${data.changedKeys.join(', ')} of ${data.appName} (version ${data.version})`,
  }),
  'settings.deleted': ({ data }) => ({
    actor: null,
    target: `app:${data.appName}`,
    summary: `Deleted the settings of ${data.appName}${data.reason ? ` (${data.reason})` : ''}`,
  }),
};

/** How `event` reads in the audit log, or null when it is not audited. */
export function describeForAudit(event: AnyEventEnvelope): AuditDescription | null {
  const describe = DESCRIBERS[event.type] as ((event: AnyEventEnvelope) => AuditDescription | null) | undefined;
  return describe ? describe(event) : null;
}
