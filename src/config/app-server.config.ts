/** How the event bus reaches its peers. */
export type EventBusTransportKind = 'memory' | 'rabbitmq';

export interface RabbitMqSettings {
  url: string;
  vhost: string;
  /** Attempts after the first failure before a message is dead-lettered. */
  maxRetries: number;
  /** Delay before the first retry; each further retry doubles it (with jitter). */
  retryDelayMs: number;
  prefetchCount: number;
  /** A handler running longer than this counts as failed and is retried. */
  consumerTimeoutMs: number;
  queueDurable: boolean;
  queueAutoDelete: boolean;
}

export interface EventBusSettings {
  transport: EventBusTransportKind;
  /** Uniquely named, self-deleting queues so parallel test runs never collide. */
  testMode: boolean;
  /**
   * Prefix of every exchange and queue; instances that must see each other's
   * events share it. Undefined: "appserver", or a random one per process in test mode.
   */
  namespace?: string;
  rabbitmq: RabbitMqSettings;
}

/**
 * The one typed configuration of AppServer, read and validated once at boot
 * (see load-config.ts). It is a class so it can be injected by type.
 */
export class AppServerConfig {
  constructor(
    readonly port: number,
    readonly instanceId: string,
    /** PostgreSQL URL; undefined means the embedded database under ./data. */
    readonly databaseUrl: string | undefined,
    /** Redis URL for the L2 cache; undefined means L1 only. */
    readonly redisUrl: string | undefined,
    readonly eventBus: EventBusSettings,
    readonly admin: { email: string; password: string } | undefined,
  ) {}
}
