import { PermissionSubject } from './subject-type';

/** One grant, as the checker needs it: both are patterns (see resource-pattern.ts). */
export interface Grant {
  readonly action: string;
  readonly resource: string;
}

/**
 * Where the PermissionChecker gets a subject's grants. The one seam to put a
 * cache behind: PermissionsModule provides CachingGrantLoader, which wraps
 * `DatabaseGrantLoader` with the `permissions` cache namespace under
 * `grantsCacheKey(subject)`, dropped by `permission.invalidate`.
 */
export abstract class GrantLoader {
  abstract loadGrants(subject: PermissionSubject): Promise<readonly Grant[]>;

  /**
   * `loadGrants`, or the grants themselves when the loader has them at hand
   * (CachingGrantLoader: in L1), so the hot path awaits nothing.
   */
  grantsOf(subject: PermissionSubject): readonly Grant[] | Promise<readonly Grant[]> {
    return this.loadGrants(subject);
  }
}
