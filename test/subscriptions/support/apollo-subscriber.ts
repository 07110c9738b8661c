import { ApolloClient, gql, InMemoryCache, NormalizedCacheObject } from '@apollo/client/core';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

export const APP_STATE_CHANGED = gql`
  subscription AppStateChanged($filter: AppStateFilter) {
    appStateChanged(filter: $filter) {
      id
      name
      state
      version
      installedAt
    }
  }
`;

export interface ReceivedApp {
  id: string;
  name: string;
  state: string;
  version: string;
  installedAt: string | null;
}

export interface CloseInfo {
  code: number;
  reason: string;
}

/**
 * A frontend as Apollo Client sees AppServer: GraphQLWsLink over the
 * graphql-ws client, authenticated with `connectionParams.authorization`.
 * It records what arrives, errors, and how the socket closed.
 */
export class ApolloSubscriber {
  readonly received: ReceivedApp[] = [];
  readonly errors: unknown[] = [];
  readonly closes: CloseInfo[] = [];
  connected = false;
  private readonly wsClient: Client;
  private readonly apollo: ApolloClient<NormalizedCacheObject>;
  private subscription?: { unsubscribe(): void };

  constructor(httpUrl: string, token: string | undefined) {
    this.wsClient = createClient({
      url: `${httpUrl.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: token ? { authorization: `Bearer ${token}` } : {},
      lazy: false,
      retryAttempts: 0,
      shouldRetry: () => false,
      // A refused or closed socket is an expected outcome here; `closes` records it (the default logs it).
      onNonLazyError: () => undefined,
      on: {
        connected: () => (this.connected = true),
        closed: (event) => {
          this.connected = false;
          const { code, reason } = event as { code: number; reason: string };
          this.closes.push({ code, reason: String(reason) });
        },
      },
    });
    this.apollo = new ApolloClient({ link: new GraphQLWsLink(this.wsClient), cache: new InMemoryCache() });
  }

  subscribe(appNames?: string[]): this {
    this.subscription = this.apollo
      .subscribe<{ appStateChanged: ReceivedApp }>({ query: APP_STATE_CHANGED, variables: { filter: appNames ? { appNames } : null } })
      .subscribe({
        next: (result) => {
          if (result.data) this.received.push(result.data.appStateChanged);
        },
        error: (error) => this.errors.push(error),
      });
    return this;
  }

  of(name: string): ReceivedApp[] {
    return this.received.filter((app) => app.name === name);
  }

  async close(): Promise<void> {
    this.subscription?.unsubscribe();
    this.apollo.stop();
    await this.wsClient.dispose();
  }
}
