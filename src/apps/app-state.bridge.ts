import { Injectable } from '@nestjs/common';
import { EnvelopeFor } from '../event-bus/event-envelope';
import { OnEvent } from '../event-bus/on-event.decorator';
import { BoundedStream } from '../graphql/bounded-stream';
import { AppState } from './app-state';
import { AppsService } from './apps.service';
import { AppModel } from './dto/app.model';

/** What graphql-ws sends for one change: the subscription field and its value. */
export interface AppStateChangedPayload {
  readonly appStateChanged: AppModel;
}

export interface AppStateSubscriberOptions {
  /** Only these apps; every app when undefined. */
  readonly appNames?: readonly string[];
  /** Who the client is: clients with the same key share one `canRead` answer per event. */
  readonly principalKey: string;
  /** Whether this client may read `appName` (asked once per event and principal, after the filter). */
  readonly canRead: (appName: string) => boolean | Promise<boolean>;
  /** The client fell too far behind: disconnect it. */
  readonly onOverflow: () => void;
}

interface Subscriber {
  readonly appNames?: ReadonlySet<string>;
  readonly principalKey: string;
  readonly canRead: AppStateSubscriberOptions['canRead'];
  readonly stream: BoundedStream<AppStateChangedPayload>;
}

const STATE_OF: Record<EnvelopeFor<'app.*'>['type'], AppState> = {
  'app.registered': AppState.REGISTERED,
  'app.installed': AppState.INSTALLED,
  'app.uninstalled': AppState.UNINSTALLED,
  'app.deregistered': AppState.DEREGISTERED,
};

/**
 * Changes a client may have queued before it counts as too slow and is disconnected: in its stream, or, once its
 * messages are written straight to its socket (SharedSubscriptionExecution), in what the socket holds back.
 */
export const CLIENT_BUFFER_CAPACITY = 100;

/** Clients served between yields to the event loop, so a fan-out to thousands never stalls other requests. */
const FAN_OUT_SLICE = 256;

/**
 * Bridges `app.*` events to the `appStateChanged` subscription. Each instance
 * holds ONE broadcast bus subscription (this handler) and fans every event out
 * in process to its own clients — never a broker subscription per client. The
 * App sent is built once per event; filters run before any per-client work;
 * each client has a bounded buffer, so a slow one is cut off and slows nobody.
 */
@Injectable()
export class AppStateBridge {
  private readonly subscribers = new Set<Subscriber>();

  constructor(private readonly apps: AppsService) {}

  /** Clients currently subscribed on this instance (the leak check watches it). */
  get subscriberCount(): number {
    return this.subscribers.size;
  }

  subscribe(options: AppStateSubscriberOptions): AsyncIterableIterator<AppStateChangedPayload> {
    const subscriber: Subscriber = {
      appNames: options.appNames ? new Set(options.appNames) : undefined,
      principalKey: options.principalKey,
      canRead: options.canRead,
      stream: new BoundedStream<AppStateChangedPayload>(CLIENT_BUFFER_CAPACITY, options.onOverflow, () => this.subscribers.delete(subscriber)),
    };
    this.subscribers.add(subscriber);
    return subscriber.stream;
  }

  /** Ends every stream (the server is shutting down). */
  endAll(): void {
    for (const subscriber of [...this.subscribers]) subscriber.stream.end();
  }

  @OnEvent('app.*', { name: 'AppStateBridge', orderByAggregate: true })
  async fanOutAppStateChange(event: EnvelopeFor<'app.*'>): Promise<void> {
    if (this.subscribers.size === 0) return;
    const interested = [...this.subscribers].filter((s) => !s.appNames || s.appNames.has(event.data.appName));
    if (interested.length === 0) return;
    const payload: AppStateChangedPayload = { appStateChanged: await this.toModel(event) };
    // Many sockets often share one user (tabs, devices): ask the permission checker once per user, not per socket.
    const verdicts = new Map<string, boolean | Promise<boolean>>();
    for (let i = 0; i < interested.length; i++) {
      const subscriber = interested[i];
      let allowed = verdicts.get(subscriber.principalKey);
      if (allowed === undefined) {
        allowed = subscriber.canRead(event.data.appName);
        verdicts.set(subscriber.principalKey, allowed);
      }
      if (allowed === true || (allowed !== false && (await allowed))) subscriber.stream.push(payload);
      if ((i + 1) % FAN_OUT_SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private async toModel(event: EnvelopeFor<'app.*'>): Promise<AppModel> {
    const { data } = event;
    const at = new Date(stepTime(event));
    // Every step's event says when the app was last installed (an install: its own time; a registration: never), so
    // no client sees the row as it is now, which may already have moved on. Events from before that field existed
    // fall back to one lookup for all clients.
    const installedAt =
      event.type === 'app.installed'
        ? at
        : event.type === 'app.registered'
          ? null
          : event.data.installedAt !== undefined
            ? new Date(event.data.installedAt)
            : ((await this.apps.findById(data.appId))?.installedAt ?? null);
    return { id: data.appId, name: data.appName, version: data.version, state: STATE_OF[event.type], installedAt, updatedAt: at };
  }
}

function stepTime(event: EnvelopeFor<'app.*'>): string {
  switch (event.type) {
    case 'app.registered':
      return event.data.registeredAt;
    case 'app.installed':
      return event.data.installedAt;
    case 'app.uninstalled':
      return event.data.uninstalledAt;
    case 'app.deregistered':
      return event.data.deregisteredAt;
  }
}
