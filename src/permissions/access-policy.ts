/** Metadata key under which every GraphQL operation declares who may call it. */
export const ACCESS_POLICY = Symbol('appserver:access-policy');

/**
 * Who may call an operation; the AccessGuard enforces it and refuses any
 * operation that declares none.
 * - `public`: anyone, no session needed (login).
 * - `session`: any logged-in principal; the service may check more (me, logout).
 * - `admin`: admins only; no grant confers it (users, grants, audit log).
 * - `permission`: a principal holding `action` on the resource the operation names.
 */
export type AccessPolicy =
  | { readonly kind: 'public' }
  | { readonly kind: 'session' }
  | { readonly kind: 'admin' }
  | PermissionPolicy;

export interface PermissionPolicy {
  readonly kind: 'permission';
  readonly action: string;
  /** Dotted path of the argument naming the resource (`name`, `appName`, `input.name`); none: the resource is `*`. */
  readonly resource?: string;
  /** `resource` split at its dots, once, when the operation is declared (the guard reads it on every call). */
  readonly resourcePath?: readonly string[];
  /** A user passes without a grant when the resource is their own user id (their own record or sessions). */
  readonly allowSelf?: boolean;
}
