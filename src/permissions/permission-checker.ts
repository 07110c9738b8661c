import { Injectable } from '@nestjs/common';
import { Principal } from '../common/principal';
import { Grant, GrantLoader } from './grant-loader';
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
    return this.isAllowedNow(principal, action, resource);
  }

  /**
   * `isAllowed`, answered without a promise when the grants are at hand (in
   * L1): what the AccessGuard asks on every operation.
   */
  isAllowedNow(principal: Principal, action: string, resource: string): boolean | Promise<boolean> {
    if (principal.kind === 'user' && principal.isAdmin) return true;
    const grants = this.grants.grantsOf(subjectOf(principal));
    return grants instanceof Promise ? grants.then((loaded) => holds(loaded, action, resource)) : holds(grants, action, resource);
  }
}

function holds(grants: readonly Grant[], action: string, resource: string): boolean {
  for (const grant of grants) if (matchesPattern(grant.action, action) && matchesPattern(grant.resource, resource)) return true;
  return false;
}

export function subjectOf(principal: Principal): PermissionSubject {
  return principal.kind === 'user' ? { type: SubjectType.USER, id: principal.userId } : { type: SubjectType.APP, id: principal.appName };
}
