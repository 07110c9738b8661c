import { DynamicModule, Global, Module } from '@nestjs/common';
import { AppServerConfig } from './app-server.config';

/** Makes the configuration loaded at boot injectable everywhere as `AppServerConfig`. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppServerConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: AppServerConfig, useValue: config }], exports: [AppServerConfig] };
  }
}
