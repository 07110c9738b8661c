import { DynamicModule, Global, Module } from '@nestjs/common';
import { AppServerConfig } from '../config/app-server.config';
import { CacheModuleOptions, resolveCacheOptions } from './cache.options';
import { CACHE_OPTIONS, CacheService } from './cache.service';

/**
 * Provides `CacheService` app-wide. L2 uses `AppServerConfig.redisUrl`
 * (APPSERVER_REDIS_URL); unset, the cache is L1 only. Expects ConfigModule.
 */
@Global()
@Module({})
export class CacheModule {
  static forRoot(options: CacheModuleOptions = {}): DynamicModule {
    return {
      module: CacheModule,
      providers: [
        {
          provide: CACHE_OPTIONS,
          inject: [AppServerConfig],
          useFactory: (config: AppServerConfig) =>
            resolveCacheOptions(config.redisUrl, {
              ...options,
              redis: { connectionName: `appserver-cache:${config.instanceId}`, ...options.redis },
            }),
        },
        CacheService,
      ],
      exports: [CacheService],
    };
  }
}
