import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { actorOf, Principal } from '../common/principal';
import { CurrentPrincipal } from '../graphql/current-principal.decorator';
import { RequiresPermission } from '../permissions/requires-permission.decorator';
import { AppEntity } from './app.entity';
import { AppsService } from './apps.service';
import { AppModel } from './dto/app.model';
import { AppNameArgs } from './dto/app-name.args';
import { AppsArgs } from './dto/apps.args';
import { RegisterAppInput } from './dto/register-app.input';

@Resolver(() => AppModel)
export class AppsResolver {
  constructor(private readonly appsService: AppsService) {}

  @Query(() => [AppModel], { description: 'Every app, or those in one state' })
  @RequiresPermission('apps.read')
  async apps(@Args() { state }: AppsArgs): Promise<AppModel[]> {
    return (await this.appsService.findAll(state)).map(toModel);
  }

  @Query(() => AppModel, { nullable: true })
  @RequiresPermission('apps.read', { resource: 'name' })
  async app(@Args() { name }: AppNameArgs): Promise<AppModel | null> {
    const app = await this.appsService.findByName(name);
    return app && toModel(app);
  }

  @Mutation(() => AppModel)
  @RequiresPermission('apps.register', { resource: 'input.name' })
  async registerApp(@Args('input') input: RegisterAppInput, @CurrentPrincipal() principal: Principal): Promise<AppModel> {
    return toModel(await this.appsService.register(input, actorOf(principal)));
  }

  @Mutation(() => AppModel)
  @RequiresPermission('apps.install', { resource: 'name' })
  async installApp(@Args() { name }: AppNameArgs): Promise<AppModel> {
    return toModel(await this.appsService.install(name));
  }

  @Mutation(() => AppModel)
  @RequiresPermission('apps.uninstall', { resource: 'name' })
  async uninstallApp(@Args() { name }: AppNameArgs): Promise<AppModel> {
    return toModel(await this.appsService.uninstall(name));
  }

  @Mutation(() => AppModel)
  @RequiresPermission('apps.deregister', { resource: 'name' })
  async deregisterApp(@Args() { name }: AppNameArgs): Promise<AppModel> {
    return toModel(await this.appsService.deregister(name));
  }
}

export function toModel(app: AppEntity): AppModel {
  return { id: app.id, name: app.name, version: app.version, state: app.state, installedAt: app.installedAt, updatedAt: app.updatedAt };
}
