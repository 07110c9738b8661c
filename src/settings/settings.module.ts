import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppSettingsEntity } from './app-settings.entity';
import { SettingsCacheInvalidator } from './settings-cache.invalidator';
import { SettingsResolver } from './settings.resolver';
import { SettingsSchemaValidator } from './settings-schema.validator';
import { SettingsService } from './settings.service';

@Module({
  imports: [TypeOrmModule.forFeature([AppSettingsEntity])],
  providers: [SettingsService, SettingsResolver, SettingsSchemaValidator, SettingsCacheInvalidator],
  exports: [SettingsService, SettingsSchemaValidator],
})
export class SettingsModule {}
