import { AddressInfo } from 'node:net';
import { INestApplication, LoggerService } from '@nestjs/common';
import { createAppServer } from '../../src/app-server';
import { loadConfig } from '../../src/config/load-config';
import { EventBus } from '../../src/event-bus/event-bus';
import { GraphqlModuleOptions } from '../../src/graphql/graphql-module.options';
import { AnyEventEnvelope } from '../../src/event-bus/event-envelope';
import { DatabaseModuleOptions } from '../../src/database/database-module.options';
import { InMemoryBroker } from '../../src/event-bus/transports/in-memory-broker';
import { SessionsModuleOptions } from '../../src/sessions/sessions-module.options';
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
  /** Without databaseUrl: where the embedded database lives (e.g. `{ embeddedFile: ':memory:' }` for a server needing no services). */
  readonly database?: DatabaseModuleOptions;
  readonly inMemoryBroker?: InMemoryBroker;
  readonly env?: Record<string, string>;
  /** Session lifetime, sweeping and login throttling (AppModuleOptions.sessions). */
  readonly sessions?: SessionsModuleOptions;
  /** Receives every log line (default: none, or Nest's console logger with TEST_LOGS set). */
  readonly logger?: LoggerService;
  /** How operations run (AppModuleOptions.graphql). */
  readonly graphql?: GraphqlModuleOptions;
}

/** The first admin every test server creates at boot (APPSERVER_ADMIN_EMAIL / APPSERVER_ADMIN_PASSWORD). */
export const TEST_ADMIN = { email: 'admin@appserver.test', password: 'correct horse battery staple' } as const;

/** Sends GraphQL requests to one server as one session (or anonymously). */
export class GraphqlClient {
  constructor(
    private readonly server: RunningServer,
    readonly token?: string,
  ) {}

  gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}): Promise<GraphQLResponse<T>> {
    return this.server.gql<T>(query, variables, { ...(this.token ? { authorization: `Bearer ${this.token}` } : {}), ...headers });
  }
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
      APPSERVER_ADMIN_EMAIL: TEST_ADMIN.email,
      APPSERVER_ADMIN_PASSWORD: TEST_ADMIN.password,
      ...options.env,
    });
    const app = await createAppServer(config, {
      logger: options.logger ?? (process.env.TEST_LOGS ? undefined : false),
      eventBus: { namespace: options.namespace, inMemoryBroker: options.inMemoryBroker },
      sessions: options.sessions,
      database: options.database,
      graphql: options.graphql,
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

  /** Logs in and returns a client for that session; fails the test if the login is refused. */
  async login(email: string, password: string): Promise<GraphqlClient> {
    const response = await this.gql<{ login: { token: string } }>(
      'mutation Login($email: String!, $password: String!) { login(email: $email, password: $password) { token } }',
      { email, password },
    );
    if (!response.data?.login) throw new Error(`login as ${email} failed: ${JSON.stringify(response.errors)}`);
    return new GraphqlClient(this, response.data.login.token);
  }

  loginAsAdmin(): Promise<GraphqlClient> {
    return this.login(TEST_ADMIN.email, TEST_ADMIN.password);
  }

  /** A client without a session. */
  anonymous(): GraphqlClient {
    return new GraphqlClient(this);
  }

  close(): Promise<void> {
    return this.app.close();
  }
}
