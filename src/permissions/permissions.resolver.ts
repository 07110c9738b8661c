import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { actorOf, Principal } from '../common/principal';
import { CurrentPrincipal } from '../graphql/current-principal.decorator';
import { RequiresAdmin } from './access.decorators';
import { PermissionGrantModel } from './dto/permission-grant.model';
import { PermissionGrantsArgs } from './dto/permission-grants.args';
import { PermissionInput } from './dto/permission.input';
import { PermissionsService } from './permissions.service';

/** Grants are admin business: whoever may grant may grant themselves anything, so no grant confers it. */
@Resolver(() => PermissionGrantModel)
export class PermissionsResolver {
  constructor(private readonly permissions: PermissionsService) {}

  @Query(() => [PermissionGrantModel], { description: 'Grants, optionally of one kind of subject or one subject (admins only)' })
  @RequiresAdmin()
  async permissionGrants(@Args() filter: PermissionGrantsArgs): Promise<PermissionGrantModel[]> {
    return this.permissions.list(filter);
  }

  @Mutation(() => Boolean, { description: 'True when granted now, false when the subject already held it (admins only)' })
  @RequiresAdmin()
  grantPermission(@Args('input') input: PermissionInput, @CurrentPrincipal() principal: Principal): Promise<boolean> {
    return this.permissions.grant(input, actorOf(principal));
  }

  @Mutation(() => Boolean, { description: 'True when revoked now, false when the subject did not hold it (admins only)' })
  @RequiresAdmin()
  revokePermission(@Args('input') input: PermissionInput, @CurrentPrincipal() principal: Principal): Promise<boolean> {
    return this.permissions.revoke(input, actorOf(principal));
  }
}
