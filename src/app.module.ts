import { DynamicModule, Module } from '@nestjs/common';
import { AppServerConfig } from './config/app-server.config';
import { ConfigModule } from './config/config.module';
import { EventBusModule, EventBusModuleOptions } from './event-bus/event-bus.module';
import { HealthModule } from './health/health.module';

export interface AppModuleOptions {
  readonly eventBus?: EventBusModuleOptions;
}

/** The whole server, built from one validated configuration (two can run in one process). */
@Module({})
export class AppModule {
  static forRoot(config: AppServerConfig, options: AppModuleOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(config), EventBusModule.forRoot(options.eventBus), HealthModule],
    };
  }
}
