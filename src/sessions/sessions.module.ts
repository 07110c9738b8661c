import { DynamicModule, Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { UsersModule } from '../users/users.module';
import { LoginThrottle } from './login-throttle';
import { SessionAuthenticator } from './session-authenticator';
import { SessionCache } from './session-cache';
import { SessionEntity } from './session.entity';
import { SessionSweeper } from './session-sweeper';
import { SessionsCacheInvalidator } from './sessions-cache.invalidator';
import { SessionsResolver } from './sessions.resolver';
import { SessionsService } from './sessions.service';
import { ResolvedSessionsOptions, resolveSessionsOptions, SESSIONS_MODULE_OPTIONS, SessionsModuleOptions } from './sessions-module.options';

/**
 * Sessions: login, logout, revocation, expiry, and the SessionAuthenticator
 * that the GraphQL layer uses to resolve a token into a principal (per HTTP
 * request, per WebSocket connection). Global so the GraphQL module's factory
 * can inject the authenticator without importing this module a second time.
 */
@Global()
@Module({})
export class SessionsModule {
  static forRoot(options: SessionsModuleOptions = {}): DynamicModule {
    return {
      module: SessionsModule,
      imports: [TypeOrmModule.forFeature([SessionEntity]), UsersModule],
      providers: [
        { provide: SESSIONS_MODULE_OPTIONS, useValue: resolveSessionsOptions(options) },
        {
          provide: LoginThrottle,
          inject: [SESSIONS_MODULE_OPTIONS],
          useFactory: (resolved: ResolvedSessionsOptions) => new LoginThrottle(resolved.throttle),
        },
        SessionsService,
        SessionsResolver,
        SessionCache,
        SessionAuthenticator,
        SessionSweeper,
        SessionsCacheInvalidator,
      ],
      // SessionCache: UsersService drops a changed user's sessions with it (it comes through this global export: this module imports UsersModule).
      exports: [SessionAuthenticator, SessionSweeper, SessionCache],
    };
  }
}
