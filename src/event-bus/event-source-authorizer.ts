/** Whether an app may be the source of an event: allowed, or refused with the reason (recorded on the dead letter). */
export type EventSourceVerdict = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

/**
 * The seam through which the bus asks whether an event that claims to come
 * from an app (`sourceAppName` set) may be handled. Consulted by every
 * consumer on both transports before the handler runs; a refused event is
 * dead-lettered at once with failure kind `unauthorized-source`. Provide it
 * from a global module (AppServer: the permissions domain, which requires
 * `events.publish` on the event type). A rejection (e.g. the database is
 * unreachable) counts as a handler failure and is retried.
 */
export abstract class EventSourceAuthorizer {
  abstract authorize(appName: string, eventType: string): Promise<EventSourceVerdict>;
}

/** Used when nobody provides an authorizer: an app-sourced event nobody can vouch for is refused, never trusted. */
export class RefuseAppSourcedEvents extends EventSourceAuthorizer {
  async authorize(appName: string): Promise<EventSourceVerdict> {
    return { allowed: false, reason: `no EventSourceAuthorizer is registered to vouch for events from app "${appName}"` };
  }
}
