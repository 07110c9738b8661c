import { Injectable } from '@nestjs/common';
import { Principal } from '../common/principal';
import { GrantLoader } from './grant-loader';
import { matchesPattern } from './resource-pattern';
import { PermissionSubject, SubjectType } from './subject-type';

/** The resource an operation without a resource argument is checked against: only a `*` grant covers it. */
export const ANY_RESOURCE = '*';

/**
 * Answers "may this principal do `action` on `resource`?" for guards and
 * services. Admins hold everything; anyone else holds what their grants say.
 * The only I/O is one `GrantLoader.loadGrants` per call, so caching it is a
 * matter of providing a caching loader.
 */
@Injectable()
export class PermissionChecker {
  constructor(private readonly grants: GrantLoader) {}

  async isAllowed(principal: Principal, action: string, resource: string): Promise<boolean> {
    if (principal.kind === 'user' && principal.isAdmin) return true;
    const grants = await this.grants.loadGrants(subjectOf(principal));
    return grants.some((grant) => matchesPattern(grant.action, action) && matchesPattern(grant.resource, resource));
  }
}

export function subjectOf(principal: Principal): PermissionSubject {
  return principal.kind === 'user' ? { type: SubjectType.USER, id: principal.userId } : { type: SubjectType.APP, id: principal.appName };
}
