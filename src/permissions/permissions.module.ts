import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventSourceAuthorizer } from '../event-bus/event-source-authorizer';
import { AccessGuard } from './access.guard';
import { AppEventSourceAuthorizer } from './app-event-source.authorizer';
import { CachingGrantLoader } from './caching-grant.loader';
import { DatabaseGrantLoader } from './database-grant.loader';
import { GrantLoader } from './grant-loader';
import { PermissionChecker } from './permission-checker';
import { PermissionGrantEntity } from './permission-grant.entity';
import { PermissionsCacheInvalidator } from './permissions-cache.invalidator';
import { PermissionsResolver } from './permissions.resolver';
import { PermissionsService } from './permissions.service';

/**
 * Permission grants, the checker, and their enforcement: the global
 * AccessGuard on every GraphQL operation and the EventSourceAuthorizer the
 * event bus consults. Global, because the bus (itself a global module) can
 * only see an authorizer exported by a global module, and every domain may
 * need the checker.
 */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([PermissionGrantEntity])],
  providers: [
    PermissionsService,
    PermissionsResolver,
    PermissionChecker,
    DatabaseGrantLoader,
    CachingGrantLoader,
    // The checker reads grants through the cache; writers drop them through CachingGrantLoader.dropCached.
    { provide: GrantLoader, useExisting: CachingGrantLoader },
    PermissionsCacheInvalidator,
    { provide: EventSourceAuthorizer, useClass: AppEventSourceAuthorizer },
    { provide: APP_GUARD, useClass: AccessGuard },
  ],
  exports: [PermissionChecker, GrantLoader, CachingGrantLoader, EventSourceAuthorizer],
})
export class PermissionsModule {}
