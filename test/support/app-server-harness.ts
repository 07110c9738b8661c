import { AddressInfo } from 'node:net';
import { INestApplication } from '@nestjs/common';
import { createAppServer } from '../../src/app-server';
import { loadConfig } from '../../src/config/load-config';
import { EventBus } from '../../src/event-bus/event-bus';
import { AnyEventEnvelope } from '../../src/event-bus/event-envelope';
import { InMemoryBroker } from '../../src/event-bus/transports/in-memory-broker';
import { TEST_RABBITMQ_URL } from './services';

export interface GraphQLResponse<T = Record<string, any>> {
  status: number;
  data?: T | null;
  errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, any> }>;
  headers: Headers;
}

export interface ServerOptions {
  readonly transport: 'rabbitmq' | 'memory';
  /** Shared by every server of one test, the way instances share a broker. */
  readonly namespace: string;
  readonly databaseUrl?: string;
  readonly inMemoryBroker?: InMemoryBroker;
  readonly env?: Record<string, string>;
}

/**
 * One AppServer, booted as `npm start` boots it (createAppServer), listening
 * on a free loopback port, with a recorder of every event on its bus.
 */
export class RunningServer {
  readonly events: AnyEventEnvelope[] = [];

  private constructor(
    readonly app: INestApplication,
    readonly url: string,
  ) {}

  static async start(options: ServerOptions): Promise<RunningServer> {
    const config = loadConfig({
      APPSERVER_EVENTBUS_ENABLED: options.transport === 'rabbitmq' ? 'true' : 'false',
      ...(options.transport === 'rabbitmq' ? { APPSERVER_RABBITMQ_URL: TEST_RABBITMQ_URL } : {}),
      APPSERVER_EVENTBUS_TEST_MODE: 'true',
      APPSERVER_RABBITMQ_RETRY_DELAY: '50ms',
      ...(options.databaseUrl ? { APPSERVER_DATABASE_URL: options.databaseUrl } : {}),
      ...options.env,
    });
    const app = await createAppServer(config, {
      logger: process.env.TEST_LOGS ? undefined : false,
      eventBus: { namespace: options.namespace, inMemoryBroker: options.inMemoryBroker },
    });
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    const server = new RunningServer(app, `http://127.0.0.1:${port}`);
    await server.bus.subscribe('#', (event) => void server.events.push(event), { name: 'test-recorder' });
    return server;
  }

  get bus(): EventBus {
    return this.app.get(EventBus);
  }

  eventsOf(type: string): AnyEventEnvelope[] {
    return this.events.filter((event) => event.type === type);
  }

  async gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}): Promise<GraphQLResponse<T>> {
    const response = await fetch(`${this.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query, variables }),
    });
    const text = await response.text();
    let body: { data?: T; errors?: GraphQLResponse['errors'] } = {};
    try {
      body = JSON.parse(text);
    } catch {
      body = { errors: [{ message: text }] };
    }
    return { status: response.status, data: body.data, errors: body.errors, headers: response.headers };
  }

  close(): Promise<void> {
    return this.app.close();
  }
}
