import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppEntity } from './app.entity';
import { SettingsModule } from '../settings/settings.module';
import { AppStateBridge } from './app-state.bridge';
import { AppStateResolver } from './app-state.resolver';
import { AppsCacheInvalidator } from './apps-cache.invalidator';
import { AppsResolver } from './apps.resolver';
import { AppsService } from './apps.service';

@Module({
  imports: [TypeOrmModule.forFeature([AppEntity]), SettingsModule],
  providers: [AppsService, AppsResolver, AppsCacheInvalidator, AppStateBridge, AppStateResolver],
  exports: [AppsService, AppStateBridge],
})
export class AppsModule {}
