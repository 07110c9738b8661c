import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AppServerConfig } from '../config/app-server.config';
import { UsersService } from './users.service';

/**
 * Creates the first admin from APPSERVER_ADMIN_EMAIL / APPSERVER_ADMIN_PASSWORD
 * before the server takes requests, when no user has that email yet. Safe on
 * every boot and with several instances booting at once.
 */
@Injectable()
export class InitialAdminBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger(InitialAdminBootstrap.name);

  constructor(
    private readonly config: AppServerConfig,
    private readonly users: UsersService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.admin) return;
    const outcome = await this.users.createInitialAdmin(this.config.admin.email, this.config.admin.password);
    if (outcome === 'created') this.logger.log('Created the first admin from APPSERVER_ADMIN_EMAIL');
  }
}
