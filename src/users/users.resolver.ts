import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Principal } from '../common/principal';
import { CurrentPrincipal } from '../graphql/current-principal.decorator';
import { RequiresAdmin, RequiresSession } from '../permissions/access.decorators';
import { RequiresPermission } from '../permissions/requires-permission.decorator';
import { CreateUserInput } from './dto/create-user.input';
import { UpdateUserArgs } from './dto/update-user.args';
import { UserIdArgs } from './dto/user-id.args';
import { UserModel } from './dto/user.model';
import { UserProfile } from './user.snapshot';
import { UsersService } from './users.service';

@Resolver(() => UserModel)
export class UsersResolver {
  constructor(private readonly usersService: UsersService) {}

  @Query(() => UserModel, { nullable: true, description: 'The logged-in user (null for an app)' })
  @RequiresSession()
  async me(@CurrentPrincipal() principal: Principal): Promise<UserModel | null> {
    if (principal.kind !== 'user') return null;
    const user = await this.usersService.findById(principal.userId);
    return user && toUserModel(user);
  }

  @Query(() => [UserModel], { description: 'Every user (admins only)' })
  @RequiresAdmin()
  async users(): Promise<UserModel[]> {
    return (await this.usersService.findAll()).map(toUserModel);
  }

  @Mutation(() => UserModel)
  @RequiresPermission('users.create')
  async createUser(@Args('input') input: CreateUserInput, @CurrentPrincipal() principal: Principal): Promise<UserModel> {
    return toUserModel(await this.usersService.create(input, principal));
  }

  @Mutation(() => UserModel, { description: 'Changes a user; anyone may change their own record, except their role' })
  @RequiresPermission('users.update', { resource: 'id', allowSelf: true })
  async updateUser(@Args() { id, input }: UpdateUserArgs, @CurrentPrincipal() principal: Principal): Promise<UserModel> {
    return toUserModel(await this.usersService.update(id, input, principal));
  }

  @Mutation(() => Boolean, { description: 'Deletes a user; their sessions are revoked and their grants dropped' })
  @RequiresPermission('users.delete', { resource: 'id' })
  async deleteUser(@Args() { id }: UserIdArgs, @CurrentPrincipal() principal: Principal): Promise<boolean> {
    await this.usersService.delete(id, principal);
    return true;
  }
}

export function toUserModel(user: UserProfile): UserModel {
  return { id: user.id, email: user.email, displayName: user.displayName, role: user.role, createdAt: user.createdAt, updatedAt: user.updatedAt };
}
