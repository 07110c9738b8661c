import { DynamicModule, Module } from '@nestjs/common';
import { AppServerConfig } from './config/app-server.config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { DatabaseModuleOptions } from './database/database-module.options';
import { EventBusModule, EventBusModuleOptions } from './event-bus/event-bus.module';
import { OutboxModule } from './outbox/outbox.module';
import { OutboxModuleOptions } from './outbox/outbox-module.options';
import { AppsModule } from './apps/apps.module';
import { GraphqlModule } from './graphql/graphql.module';
import { HealthModule } from './health/health.module';
import { SettingsModule } from './settings/settings.module';

export interface AppModuleOptions {
  readonly eventBus?: EventBusModuleOptions;
  readonly database?: DatabaseModuleOptions;
  readonly outbox?: OutboxModuleOptions;
}

/** The whole server, built from one validated configuration (two can run in one process). */
@Module({})
export class AppModule {
  static forRoot(config: AppServerConfig, options: AppModuleOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule.forRoot(options.database),
        EventBusModule.forRoot(options.eventBus),
        // After the bus: on shutdown the relay finishes its batch before the bus closes.
        OutboxModule.forRoot(options.outbox),
        GraphqlModule,
        HealthModule,
        AppsModule,
        SettingsModule,
      ],
    };
  }
}
