import { PermissionSubject, SubjectType } from './subject-type';

/**
 * Keys of the `permissions` cache namespace, one place for the writer and the
 * invalidator to agree on: everything cached about a subject lives under
 * `user:<id>:` or `app:<name>:`, so one `permission.invalidate` pattern
 * (`user:<id>:*`) drops all of it on every instance.
 */
export function subjectKeyPrefix(subject: PermissionSubject): string {
  return `${subject.type === SubjectType.USER ? 'user' : 'app'}:${subject.id}:`;
}

/** The key a cached grant list of `subject` goes under. */
export function grantsCacheKey(subject: PermissionSubject): string {
  return `${subjectKeyPrefix(subject)}grants`;
}

/** The pattern `permission.invalidate` carries when the grants (or the role) of `subject` change. */
export function subjectInvalidationPattern(subject: PermissionSubject): string {
  return `${subjectKeyPrefix(subject)}*`;
}
