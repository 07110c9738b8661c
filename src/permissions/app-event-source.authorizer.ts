import { Injectable } from '@nestjs/common';
import { EventSourceAuthorizer, EventSourceVerdict } from '../event-bus/event-source-authorizer';
import { PermissionChecker } from './permission-checker';

/** The permission an app needs, on an event type, to be that event's source. */
export const PUBLISH_EVENTS_ACTION = 'events.publish';

/** Lets an app be the source of an event only if it holds `events.publish` on the event's type (e.g. on `de.easy-m.*` types or `app.*`). */
@Injectable()
export class AppEventSourceAuthorizer extends EventSourceAuthorizer {
  constructor(private readonly checker: PermissionChecker) {
    super();
  }

  async authorize(appName: string, eventType: string): Promise<EventSourceVerdict> {
    if (await this.checker.isAllowed({ kind: 'app', appName }, PUBLISH_EVENTS_ACTION, eventType)) return { allowed: true };
    return { allowed: false, reason: `app "${appName}" does not hold permission ${PUBLISH_EVENTS_ACTION} on "${eventType}"` };
  }
}
