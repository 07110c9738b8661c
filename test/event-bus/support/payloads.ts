import { randomUUID } from 'node:crypto';
import { AppInstalledPayload, AppRegisteredPayload } from '../../../src/apps/app.events';
import { SettingsUpdatedPayload } from '../../../src/settings/settings.events';
import { UserCreatedPayload } from '../../../src/users/user.events';
import { SessionCreatedPayload } from '../../../src/sessions/session.events';

/** Valid payloads for the catalog's events; `label` makes each one recognisable in assertions. */
export const payloads = {
  appInstalled: (label: string, appId: string = randomUUID()): AppInstalledPayload => ({
    appId,
    appName: `de.test.${label}`,
    version: '1.0.0',
    installedAt: new Date().toISOString(),
  }),
  appRegistered: (label: string): AppRegisteredPayload => ({
    appId: randomUUID(),
    appName: `de.test.${label}`,
    version: '1.0.0',
    registeredAt: new Date().toISOString(),
  }),
  userCreated: (label: string): UserCreatedPayload => ({ userId: randomUUID(), email: `${label}@example.com` }),
  sessionCreated: (): SessionCreatedPayload => ({
    sessionId: randomUUID(),
    userId: randomUUID(),
    expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
  }),
  settingsUpdated: (appName: string, version: number): SettingsUpdatedPayload => ({
    appName,
    changedKeys: ['theme'],
    updatedBy: 'tester',
    version,
  }),
};
