import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { DynamicModule, Global, INestApplicationContext, Module, Provider } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import * as amqplib from 'amqplib';
import { loadConfig } from '../../../src/config/load-config';
import { ConfigModule } from '../../../src/config/config.module';
import { EventBus } from '../../../src/event-bus/event-bus';
import { EventBusModule } from '../../../src/event-bus/event-bus.module';
import { EventSourceAuthorizer } from '../../../src/event-bus/event-source-authorizer';
import { EventTransport } from '../../../src/event-bus/event-transport';
import { InMemoryBroker } from '../../../src/event-bus/transports/in-memory-broker';
import { InMemoryTransport } from '../../../src/event-bus/transports/in-memory.transport';
import { TEST_RABBITMQ_URL } from '../../support/services';

const run = promisify(execFile);

export interface BusInstance {
  readonly app: INestApplicationContext;
  readonly bus: EventBus;
}

export interface StartOptions {
  /** Extra environment variables (on top of the test defaults). */
  readonly env?: Record<string, string>;
  /** Providers to boot with the bus (e.g. classes with @OnEvent methods). */
  readonly providers?: Provider[];
  /** Vouches for app-sourced events, provided from a global module as AppServer's PermissionsModule does; none by default. */
  readonly sourceAuthorizer?: EventSourceAuthorizer;
}

/**
 * Boots EventBus instances for one test on one transport. Every instance a
 * harness starts shares its namespace (and, in memory, its broker), the way
 * several AppServer instances share one RabbitMQ; each harness has a fresh
 * namespace so tests never see each other's events.
 */
export abstract class TransportHarness {
  abstract readonly kind: 'memory' | 'rabbitmq';
  readonly namespace = `contract-${randomBytes(4).toString('hex')}`;
  protected readonly instances: BusInstance[] = [];

  protected abstract transportEnv(): Record<string, string>;
  protected abstract busModule(): DynamicModule;

  async start(options: StartOptions = {}): Promise<BusInstance> {
    const config = loadConfig({
      ...this.transportEnv(),
      APPSERVER_EVENTBUS_TEST_MODE: 'true',
      APPSERVER_INSTANCE_ID: `test-${this.instances.length + 1}`,
      APPSERVER_RABBITMQ_RETRY_DELAY: '20ms',
      APPSERVER_RABBITMQ_MAX_RETRIES: '3',
      APPSERVER_RABBITMQ_CONSUMER_TIMEOUT: '10s',
      ...options.env,
    });
    const authorizerModules: DynamicModule[] = [];
    if (options.sourceAuthorizer) {
      @Global()
      @Module({})
      class SourceAuthorizerModule {}
      const provider = { provide: EventSourceAuthorizer, useValue: options.sourceAuthorizer };
      authorizerModules.push({ module: SourceAuthorizerModule, providers: [provider], exports: [EventSourceAuthorizer] });
    }
    @Module({ imports: [ConfigModule.forRoot(config), ...authorizerModules, this.busModule()], providers: options.providers ?? [] })
    class TestBusModule {}
    const app = await NestFactory.createApplicationContext(TestBusModule, { logger: process.env.TEST_LOGS ? undefined : false });
    await app.init();
    const instance = { app, bus: app.get(EventBus) };
    this.instances.push(instance);
    return instance;
  }

  transportOf(instance: BusInstance): EventTransport {
    return instance.app.get(EventTransport);
  }

  /** Puts raw bytes straight into a queue, bypassing the bus (a foreign or broken publisher). */
  abstract injectRaw(queue: string, body: Buffer): Promise<void>;

  /** Cuts every bus connection the way a network failure or broker restart would. */
  abstract cutConnections(): Promise<void>;

  async stopAll(): Promise<void> {
    await Promise.allSettled(this.instances.map((instance) => instance.app.close()));
    this.instances.length = 0;
  }
}

export class InMemoryHarness extends TransportHarness {
  readonly kind = 'memory' as const;
  readonly broker = new InMemoryBroker();

  protected transportEnv(): Record<string, string> {
    return { APPSERVER_EVENTBUS_ENABLED: 'false' };
  }

  protected busModule(): DynamicModule {
    return EventBusModule.forRoot({ namespace: this.namespace, inMemoryBroker: this.broker, shutdownTimeoutMs: 10_000 });
  }

  async injectRaw(queue: string, body: Buffer): Promise<void> {
    this.broker.sendToQueue(queue, { body, routingKey: queue, headers: {}, redelivered: false });
  }

  async cutConnections(): Promise<void> {
    for (const instance of this.instances) (this.transportOf(instance) as InMemoryTransport).simulateConnectionLoss();
  }

  override async stopAll(): Promise<void> {
    await super.stopAll();
    this.broker.dispose();
  }
}

export class RabbitMqHarness extends TransportHarness {
  readonly kind = 'rabbitmq' as const;

  protected transportEnv(): Record<string, string> {
    return { APPSERVER_EVENTBUS_ENABLED: 'true', APPSERVER_RABBITMQ_URL: TEST_RABBITMQ_URL };
  }

  protected busModule(): DynamicModule {
    return EventBusModule.forRoot({ namespace: this.namespace, shutdownTimeoutMs: 10_000 });
  }

  async injectRaw(queue: string, body: Buffer): Promise<void> {
    const connection = await amqplib.connect(TEST_RABBITMQ_URL);
    try {
      const channel = await connection.createConfirmChannel();
      channel.sendToQueue(queue, body, { persistent: true });
      await channel.waitForConfirms();
    } finally {
      await connection.close();
    }
  }

  async cutConnections(): Promise<void> {
    await run('rabbitmqctl', ['close_all_connections', 'test: connection cut on purpose']);
  }

  /** Removes what this harness's namespace declared, so test runs leave the broker as they found it. */
  override async stopAll(): Promise<void> {
    await super.stopAll();
    const { stdout: queues } = await run('rabbitmqctl', ['list_queues', '-q', '--no-table-headers', 'name']);
    const { stdout: exchanges } = await run('rabbitmqctl', ['list_exchanges', '-q', '--no-table-headers', 'name']);
    const mine = (list: string) =>
      list
        .split('\n')
        .map((line) => line.trim())
        .filter((name) => name.startsWith(`${this.namespace}.`));
    const connection = await amqplib.connect(TEST_RABBITMQ_URL);
    try {
      const channel = await connection.createChannel();
      for (const queue of mine(queues)) await channel.deleteQueue(queue);
      for (const exchange of mine(exchanges)) await channel.deleteExchange(exchange);
    } finally {
      await connection.close();
    }
  }
}
