/**
 * Who is making a request or publishing an event, as established once per
 * request (HTTP: the `Authorization: Bearer` session token; WebSocket: the
 * `connectionParams.authorization` token) and then trusted by guards and services.
 */
export type Principal = UserPrincipal | AppPrincipal;

/** A person logged in through a session. */
export interface UserPrincipal {
  readonly kind: 'user';
  readonly userId: string;
  readonly email: string;
  /** Admins hold every permission; nothing else is implied by the role. */
  readonly isAdmin: boolean;
  /** The session the request came with (logout ends this one). */
  readonly sessionId: string;
}

/** An application acting on its own behalf (e.g. publishing its events). */
export interface AppPrincipal {
  readonly kind: 'app';
  readonly appName: string;
}

/** The actor of what the server does on its own (the first admin at boot, expiry, clean-ups after a deletion). */
export const SYSTEM_ACTOR = 'system';

/** How a principal is named where changes are attributed (`updatedBy`, audit actor): a user id or `app:<name>`. */
export function actorOf(principal: Principal): string {
  return principal.kind === 'user' ? principal.userId : `app:${principal.appName}`;
}
