import { registerEnumType } from '@nestjs/graphql';

/** ADMIN holds every permission; USER holds only what is granted to them. */
export enum UserRole {
  ADMIN = 'ADMIN',
  USER = 'USER',
}

registerEnumType(UserRole, { name: 'UserRole', description: 'ADMIN holds every permission; USER holds what is granted' });
