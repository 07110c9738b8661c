import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { RequiresPermission } from '../permissions/requires-permission.decorator';
import { AppSettingsEntity } from './app-settings.entity';
import { AppSettingsModel } from './dto/app-settings.model';
import { AppSettingsArgs, UpdateAppSettingsArgs } from './dto/update-app-settings.args';
import { SettingsService } from './settings.service';

/** Until identity and access lands, changes are attributed to this actor. */
const ANONYMOUS = 'anonymous';

@Resolver(() => AppSettingsModel)
export class SettingsResolver {
  constructor(private readonly settings: SettingsService) {}

  @Query(() => AppSettingsModel, { nullable: true, description: "An app's settings, or null when no such app is registered" })
  @RequiresPermission('settings.read')
  async appSettings(@Args() { appName }: AppSettingsArgs): Promise<AppSettingsModel | null> {
    const found = await this.settings.find(appName);
    return found && toModel(found);
  }

  @Mutation(() => AppSettingsModel)
  @RequiresPermission('settings.write')
  async updateAppSettings(@Args() { appName, values }: UpdateAppSettingsArgs): Promise<AppSettingsModel> {
    return toModel(await this.settings.update(appName, values, ANONYMOUS));
  }
}

function toModel(entity: AppSettingsEntity): AppSettingsModel {
  return { appName: entity.appName, values: entity.values, version: entity.version, updatedAt: entity.updatedAt };
}
