import { INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { ConfigModule } from '../../../src/config/config.module';
import { loadConfig } from '../../../src/config/load-config';
import { DatabaseModule } from '../../../src/database/database.module';
import { DatabaseModuleOptions } from '../../../src/database/database-module.options';
import { UnitOfWork } from '../../../src/database/unit-of-work';
import { EventBus } from '../../../src/event-bus/event-bus';
import { EventBusModule, EventBusModuleOptions } from '../../../src/event-bus/event-bus.module';
import { EventContext } from '../../../src/event-bus/event-context';
import { AnyEventEnvelope } from '../../../src/event-bus/event-envelope';
import { EventTransport } from '../../../src/event-bus/event-transport';
import { InMemoryBroker } from '../../../src/event-bus/transports/in-memory-broker';
import { Outbox } from '../../../src/outbox/outbox';
import { OutboxMessage } from '../../../src/outbox/outbox-message.entity';
import { OutboxModule } from '../../../src/outbox/outbox.module';
import { OutboxModuleOptions } from '../../../src/outbox/outbox-module.options';
import { OutboxRelay } from '../../../src/outbox/outbox-relay';
import { TEST_RABBITMQ_URL } from '../../support/services';

export interface OutboxAppOptions {
  /** Where the data is (see createDatabaseUnderTest); plain data, so a child process can get it as JSON. */
  readonly database: { readonly env: Record<string, string>; readonly moduleOptions: DatabaseModuleOptions };
  /** Shared by the instances of one test, as they share a broker. */
  readonly namespace: string;
  /** An in-memory broker shared by the instances of one test, or the real RabbitMQ. */
  readonly broker: InMemoryBroker | 'rabbitmq';
  readonly outbox?: OutboxModuleOptions;
  readonly eventBus?: Omit<EventBusModuleOptions, 'namespace' | 'inMemoryBroker'>;
  readonly instanceId?: string;
}

/** An application context with what the outbox needs: config, bus, database, outbox. */
export class OutboxApp {
  private constructor(readonly app: INestApplicationContext) {}

  static async start(options: OutboxAppOptions): Promise<OutboxApp> {
    const rabbit = options.broker === 'rabbitmq';
    const config = loadConfig({
      ...options.database.env,
      APPSERVER_EVENTBUS_ENABLED: rabbit ? 'true' : 'false',
      ...(rabbit ? { APPSERVER_RABBITMQ_URL: TEST_RABBITMQ_URL } : {}),
      APPSERVER_EVENTBUS_TEST_MODE: 'true',
      APPSERVER_INSTANCE_ID: options.instanceId ?? 'outbox-test',
    });
    const eventBus = EventBusModule.forRoot({
      shutdownTimeoutMs: 10_000,
      ...options.eventBus,
      namespace: options.namespace,
      inMemoryBroker: rabbit ? undefined : (options.broker as InMemoryBroker),
    });
    // Outbox after the bus: on shutdown the relay stops (finishing its batch) before the bus closes.
    @Module({
      imports: [ConfigModule.forRoot(config), eventBus, DatabaseModule.forRoot(options.database.moduleOptions), OutboxModule.forRoot(options.outbox)],
    })
    class OutboxTestModule {}
    const app = await NestFactory.createApplicationContext(OutboxTestModule, {
      logger: process.env.TEST_LOGS ? undefined : false,
      // A failed boot rejects (the test reports it) instead of exiting the test process.
      abortOnError: false,
    });
    await app.init();
    return new OutboxApp(app);
  }

  get bus(): EventBus {
    return this.app.get(EventBus);
  }
  get transport(): EventTransport {
    return this.app.get(EventTransport);
  }
  get context(): EventContext {
    return this.app.get(EventContext);
  }
  get unitOfWork(): UnitOfWork {
    return this.app.get(UnitOfWork);
  }
  get outbox(): Outbox {
    return this.app.get(Outbox);
  }
  get relay(): OutboxRelay {
    return this.app.get(OutboxRelay);
  }
  get dataSource(): DataSource {
    return this.app.get(DataSource);
  }

  /** The outbox row of an event, or null once deleted (or never committed). */
  row(eventId: string): Promise<OutboxMessage | null> {
    return this.unitOfWork.read((manager) => manager.findOneBy(OutboxMessage, { eventId }));
  }

  rows(): Promise<OutboxMessage[]> {
    return this.unitOfWork.read((manager) => manager.find(OutboxMessage, { order: { seq: 'ASC' } }));
  }

  close(): Promise<void> {
    return this.app.close();
  }
}

/** Everything a broadcast subscription received, in arrival order. */
export class EventRecorder {
  readonly events: AnyEventEnvelope[] = [];

  static async on(bus: EventBus, pattern = '#'): Promise<EventRecorder> {
    const recorder = new EventRecorder();
    await bus.subscribe(pattern, (event) => void recorder.events.push(event as AnyEventEnvelope), { name: 'outbox-test-recorder' });
    return recorder;
  }

  has(id: string): boolean {
    return this.events.some((event) => event.id === id);
  }

  count(id: string): number {
    return this.events.filter((event) => event.id === id).length;
  }

  ids(): string[] {
    return this.events.map((event) => event.id);
  }
}
