import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { DynamicModule, Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { AppServerConfig } from '../config/app-server.config';
import { EventBus } from './event-bus';
import { EVENT_CATALOG } from './event-catalog';
import { EventContext } from './event-context';
import { EventHandlerExplorer } from './event-handler.explorer';
import { EventSourceAuthorizer, RefuseAppSourcedEvents } from './event-source-authorizer';
import { EventTransport } from './event-transport';
import { TransportEventBus } from './transport-event-bus';
import { InMemoryBroker } from './transports/in-memory-broker';
import { InMemoryTransport } from './transports/in-memory.transport';
import { RabbitMqTransport } from './transports/rabbitmq.transport';

export interface EventBusModuleOptions {
  /** One in-memory broker shared by several applications in one process (tests); default: a broker of its own. */
  readonly inMemoryBroker?: InMemoryBroker;
  /**
   * Prefix of every exchange and queue; wins over APPSERVER_EVENTBUS_NAMESPACE.
   * Default "appserver"; in test mode a unique one per bus unless given.
   */
  readonly namespace?: string;
  /** How long a publish waits for the broker (e.g. while reconnecting) before failing. Default 10 s. */
  readonly publishTimeoutMs?: number;
  /** How long boot waits for RabbitMQ. Default 10 s. */
  readonly connectTimeoutMs?: number;
  /** How long shutdown waits for in-flight handlers. Default: the consumer timeout. */
  readonly shutdownTimeoutMs?: number;
  /** Handlers running at once across all subscriptions. Default 256. */
  readonly maxConcurrentHandlers?: number;
  /** How long a broadcast queue outlives its instance's connection. Default 5 min. */
  readonly broadcastQueueExpiresMs?: number;
}

const EVENT_BUS_MODULE_OPTIONS = Symbol('EVENT_BUS_MODULE_OPTIONS');
/** The namespace resolved once, so the transport and the bus agree on it. */
const EVENT_BUS_NAMESPACE = Symbol('EVENT_BUS_NAMESPACE');

/**
 * Provides `EventBus` (and `EventContext`) app-wide and subscribes `@OnEvent`
 * methods at bootstrap. Events naming a source app are handled only if an
 * `EventSourceAuthorizer` exported by a global module allows them; without
 * one, they are dead-lettered.
 */
@Global()
@Module({})
export class EventBusModule {
  static forRoot(options: EventBusModuleOptions = {}): DynamicModule {
    return {
      module: EventBusModule,
      imports: [DiscoveryModule],
      providers: [
        { provide: EVENT_BUS_MODULE_OPTIONS, useValue: options },
        {
          provide: EVENT_BUS_NAMESPACE,
          inject: [AppServerConfig],
          useFactory: (config: AppServerConfig) => namespaceFor(config, options),
        },
        EventContext,
        {
          provide: EventTransport,
          inject: [AppServerConfig, EVENT_BUS_MODULE_OPTIONS, EVENT_BUS_NAMESPACE],
          useFactory: createTransport,
        },
        {
          provide: EventBus,
          // The authorizer comes from a global module when one provides it (AppServer: PermissionsModule).
          inject: [
            EventTransport,
            EventContext,
            AppServerConfig,
            EVENT_BUS_MODULE_OPTIONS,
            EVENT_BUS_NAMESPACE,
            { token: EventSourceAuthorizer, optional: true },
          ],
          useFactory: async (
            transport: EventTransport,
            context: EventContext,
            config: AppServerConfig,
            opts: EventBusModuleOptions,
            namespace: string,
            sourceAuthorizer: EventSourceAuthorizer | undefined,
          ) => {
            const { rabbitmq, testMode } = config.eventBus;
            const settings = {
              namespace,
              instanceId: config.instanceId,
              testMode,
              retry: { maxRetries: rabbitmq.maxRetries, initialDelayMs: rabbitmq.retryDelayMs, maxDelayMs: 5 * 60_000 },
              prefetch: rabbitmq.prefetchCount,
              handlerTimeoutMs: rabbitmq.consumerTimeoutMs,
              groupQueueDurable: rabbitmq.queueDurable,
              groupQueueAutoDelete: rabbitmq.queueAutoDelete,
              broadcastQueueExpiresMs: opts.broadcastQueueExpiresMs ?? 5 * 60_000,
              shutdownTimeoutMs: opts.shutdownTimeoutMs ?? rabbitmq.consumerTimeoutMs,
              maxConcurrentHandlers: opts.maxConcurrentHandlers ?? 256,
            };
            const bus = new TransportEventBus(transport, EVENT_CATALOG, context, settings, sourceAuthorizer ?? new RefuseAppSourcedEvents());
            await bus.connect();
            return bus;
          },
        },
        EventHandlerExplorer,
      ],
      exports: [EventBus, EventContext],
    };
  }
}

/** The module option, else APPSERVER_EVENTBUS_NAMESPACE, else the default ("appserver", random in test mode). */
export function namespaceFor(config: AppServerConfig, options: EventBusModuleOptions): string {
  if (options.namespace) return options.namespace;
  if (config.eventBus.namespace) return config.eventBus.namespace;
  return config.eventBus.testMode ? `appserver-test-${randomBytes(4).toString('hex')}` : 'appserver';
}

function createTransport(config: AppServerConfig, options: EventBusModuleOptions, namespace: string): EventTransport {
  const publishTimeoutMs = options.publishTimeoutMs ?? 10_000;
  if (config.eventBus.transport === 'rabbitmq') {
    const { rabbitmq, testMode } = config.eventBus;
    return new RabbitMqTransport({
      url: rabbitmq.url,
      vhost: rabbitmq.vhost,
      namespace,
      publishTimeoutMs,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      testMode,
      connectionName: `appserver ${config.instanceId} (${hostname()})`,
    });
  }
  const broker = options.inMemoryBroker ?? new InMemoryBroker();
  return new InMemoryTransport(broker, `${namespace}.events`, publishTimeoutMs, options.inMemoryBroker === undefined);
}
