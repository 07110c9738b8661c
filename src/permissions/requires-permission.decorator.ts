import { SetMetadata } from '@nestjs/common';
import { ACCESS_POLICY, AccessPolicy } from './access-policy';

export interface RequiresPermissionOptions {
  /**
   * Dotted path of the argument that names the resource, e.g. `name`,
   * `appName` or `input.name`. Without it the operation is checked against
   * the resource `*`, which only a grant on `*` covers.
   */
  readonly resource?: string;
  /** Let a user act on their own record without a grant (the resource argument is a user id). */
  readonly allowSelf?: boolean;
}

/**
 * Declares the permission an operation needs, e.g.
 * `@RequiresPermission('apps.install', { resource: 'name' })`: a valid session
 * (else UNAUTHENTICATED) holding `apps.install` on the app named by the
 * `name` argument (else FORBIDDEN). Admins hold every permission.
 */
export const RequiresPermission = (action: string, options: RequiresPermissionOptions = {}) =>
  SetMetadata<symbol, AccessPolicy>(ACCESS_POLICY, { kind: 'permission', action, ...options, resourcePath: options.resource?.split('.') });
