import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { InitialAdminBootstrap } from './initial-admin.bootstrap';
import { PasswordHasher } from './password-hasher';
import { UserEntity } from './user.entity';
import { UsersCacheInvalidator } from './users-cache.invalidator';
import { UsersResolver } from './users.resolver';
import { UsersService } from './users.service';

@Module({
  imports: [TypeOrmModule.forFeature([UserEntity])],
  providers: [UsersService, UsersResolver, PasswordHasher, InitialAdminBootstrap, UsersCacheInvalidator],
  exports: [UsersService, PasswordHasher],
})
export class UsersModule {}
