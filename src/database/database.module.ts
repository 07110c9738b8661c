import { DynamicModule, Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppServerConfig } from '../config/app-server.config';
import { createDataSource } from './data-source.factory';
import { dataSourceOptionsFor } from './data-source.options';
import { DatabaseModuleOptions } from './database-module.options';
import { UnitOfWork } from './unit-of-work';

/**
 * The database, app-wide: PostgreSQL when `APPSERVER_DATABASE_URL` is set,
 * otherwise the embedded sql.js file. Opening it runs the pending migrations.
 * Provides `UnitOfWork` and TypeORM's `DataSource`; a domain registers its
 * entities with `TypeOrmModule.forFeature([...])` in its own module.
 */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot(options: DatabaseModuleOptions = {}): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [AppServerConfig],
          useFactory: (config: AppServerConfig) => dataSourceOptionsFor(config, options),
          dataSourceFactory: createDataSource,
        }),
      ],
      providers: [UnitOfWork],
      exports: [UnitOfWork],
    };
  }
}
