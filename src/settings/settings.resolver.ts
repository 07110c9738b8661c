import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { actorOf, Principal } from '../common/principal';
import { CurrentPrincipal } from '../graphql/current-principal.decorator';
import { RequiresPermission } from '../permissions/requires-permission.decorator';
import { AppSettingsEntity } from './app-settings.entity';
import { AppSettingsModel } from './dto/app-settings.model';
import { AppSettingsArgs, UpdateAppSettingsArgs } from './dto/update-app-settings.args';
import { SettingsService } from './settings.service';

@Resolver(() => AppSettingsModel)
export class SettingsResolver {
  constructor(private readonly settings: SettingsService) {}

  @Query(() => AppSettingsModel, { nullable: true, description: "An app's settings, or null when no such app is registered" })
  @RequiresPermission('settings.read', { resource: 'appName' })
  appSettings(@Args() { appName }: AppSettingsArgs): AppSettingsModel | null | Promise<AppSettingsModel | null> {
    // Not async: answered from L1, the read awaits nothing (Nest awaits the resolver's result either way).
    const found = this.settings.find(appName);
    return found instanceof Promise ? found.then(toModelOrNull) : toModelOrNull(found);
  }

  @Mutation(() => AppSettingsModel)
  @RequiresPermission('settings.write', { resource: 'appName' })
  async updateAppSettings(@Args() { appName, values }: UpdateAppSettingsArgs, @CurrentPrincipal() principal: Principal): Promise<AppSettingsModel> {
    return toModel(await this.settings.update(appName, values, actorOf(principal)));
  }
}

function toModelOrNull(entity: AppSettingsEntity | null): AppSettingsModel | null {
  return entity && toModel(entity);
}

function toModel(entity: AppSettingsEntity): AppSettingsModel {
  return { appName: entity.appName, values: entity.values, version: entity.version, updatedAt: entity.updatedAt };
}
