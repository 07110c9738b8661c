import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { CacheModule, CacheService, NamespacedCache } from '../../src/cache';
import { ConfigModule } from '../../src/config/config.module';
import { loadConfig } from '../../src/config/load-config';
import { describeWith, TEST_REDIS_URL } from '../support/services';
import { waitFor } from '../support/wait-for';
import { CacheHarness } from './support/cache-harness';

/** A domain service as the domains will use the cache: one typed namespace, injected. */
@Injectable()
class AppLookup {
  readonly apps: NamespacedCache<{ name: string }>;

  constructor(cache: CacheService) {
    this.apps = cache.namespace('apps');
  }
}

async function boot(env: Record<string, string>, keyPrefix: string) {
  const moduleRef = await Test.createTestingModule({
    imports: [ConfigModule.forRoot(loadConfig(env)), CacheModule.forRoot({ redis: { keyPrefix } })],
    providers: [AppLookup],
  }).compile();
  moduleRef.useLogger(false);
  return moduleRef.init();
}

describeWith(['redis'], 'CacheModule', () => {
  // Only for its key prefix, its Redis client and the clean-up: the services here are booted by Nest.
  const harness = new CacheHarness();
  const { keyPrefix, redis } = harness;

  afterAll(() => harness.close());

  const connectionsNamed = async (name: string) => {
    const list = String(await redis.client('LIST'));
    return list.split('\n').filter((line) => line.includes(` name=${name} `)).length;
  };

  it('connects to APPSERVER_REDIS_URL under the instance id, serves the domains, and quits on shutdown', async () => {
    const instanceId = `cache-module-${randomBytes(4).toString('hex')}`;
    const app = await boot({ APPSERVER_REDIS_URL: TEST_REDIS_URL, APPSERVER_INSTANCE_ID: instanceId }, keyPrefix);
    expect(app.get(CacheService).metrics().l2).toBe('ready');
    expect(await connectionsNamed(`appserver-cache:${instanceId}`)).toBe(1);

    const { apps } = app.get(AppLookup);
    expect(await apps.getOrLoad('crm', async () => ({ name: 'crm' }))).toEqual({ name: 'crm' });
    expect(await redis.exists(`${keyPrefix}:apps:e:crm`)).toBe(1);

    await app.close();
    await waitFor(async () => (await connectionsNamed(`appserver-cache:${instanceId}`)) === 0, 'the cache connection to close');
  });

  it('is L1 only without APPSERVER_REDIS_URL', async () => {
    const app = await boot({}, keyPrefix);
    expect(app.get(CacheService).metrics().l2).toBe('off');
    expect(await app.get(AppLookup).apps.getOrLoad('crm', async () => ({ name: 'crm' }))).toEqual({ name: 'crm' });
    await app.close();
  });
});
