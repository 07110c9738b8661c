import { DynamicModule, Module } from '@nestjs/common';
import { CacheModule } from './cache/cache.module';
import { CacheModuleOptions } from './cache/cache.options';
import { CacheReconnectModule } from './cache/cache-reconnect.flusher';
import { AppServerConfig } from './config/app-server.config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { DatabaseModuleOptions } from './database/database-module.options';
import { EventBusModule, EventBusModuleOptions } from './event-bus/event-bus.module';
import { OutboxModule } from './outbox/outbox.module';
import { OutboxModuleOptions } from './outbox/outbox-module.options';
import { AppsModule } from './apps/apps.module';
import { AuditModule } from './audit/audit.module';
import { GraphqlModule } from './graphql/graphql.module';
import { GraphqlModuleOptions } from './graphql/graphql-module.options';
import { HealthModule } from './health/health.module';
import { PermissionsModule } from './permissions/permissions.module';
import { SessionsModule } from './sessions/sessions.module';
import { SessionsModuleOptions } from './sessions/sessions-module.options';
import { SettingsModule } from './settings/settings.module';
import { UsersModule } from './users/users.module';

export interface AppModuleOptions {
  readonly eventBus?: EventBusModuleOptions;
  readonly database?: DatabaseModuleOptions;
  readonly outbox?: OutboxModuleOptions;
  /** Sizes and lifetimes of the cache (e.g. `defaults: { l1MaxEntries: 0 }` to serve from Redis only). */
  readonly cache?: CacheModuleOptions;
  /** Session lifetime, expiry sweeping and login throttling. */
  readonly sessions?: SessionsModuleOptions;
  /** How operations run (e.g. `compileQueries: false` to run every query through graphql-js). */
  readonly graphql?: GraphqlModuleOptions;
}

/** The whole server, built from one validated configuration (two can run in one process). */
@Module({})
export class AppModule {
  static forRoot(config: AppServerConfig, options: AppModuleOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        CacheModule.forRoot(options.cache),
        DatabaseModule.forRoot(options.database),
        EventBusModule.forRoot(options.eventBus),
        // After a bus reconnect, events may have been missed: L1 is dropped.
        CacheReconnectModule,
        // After the bus: on shutdown the relay finishes its batch before the bus closes.
        OutboxModule.forRoot(options.outbox),
        GraphqlModule.forRoot(options.graphql),
        HealthModule,
        AppsModule,
        SettingsModule,
        // Identity and access: the global guard, the principal of each request, the event source check, the audit log.
        PermissionsModule,
        UsersModule,
        SessionsModule.forRoot(options.sessions),
        AuditModule,
      ],
    };
  }
}
