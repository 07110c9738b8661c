import { loadConfig } from '../config/load-config';
import { dataSourceOptionsFor } from './data-source.options';
import { MIGRATIONS } from './migrations';

describe('dataSourceOptionsFor', () => {
  const embedded = loadConfig({});
  const postgres = loadConfig({ APPSERVER_DATABASE_URL: 'postgres://app@db:5432/appserver', APPSERVER_INSTANCE_ID: 'node-1' });

  it('uses PostgreSQL when APPSERVER_DATABASE_URL is set', () => {
    const options = dataSourceOptionsFor(postgres, { poolSize: 4 });
    expect(options).toMatchObject({
      type: 'postgres',
      url: 'postgres://app@db:5432/appserver',
      applicationName: 'appserver node-1',
      extra: { max: 4 },
    });
  });

  it('uses the embedded file ./data/appserver.sqlite otherwise, saved after every commit', () => {
    const options = dataSourceOptionsFor(embedded, {});
    expect(options).toMatchObject({ type: 'sqljs', location: './data/appserver.sqlite', autoSave: true });
    expect(options).toHaveProperty('autoSaveCallback', expect.any(Function));
  });

  it('keeps an embedded database in memory only when asked, saving nothing', () => {
    const options = dataSourceOptionsFor(embedded, { embeddedFile: ':memory:' });
    expect(options.type).toBe('sqljs');
    expect(options).not.toHaveProperty('location');
    expect(options).not.toHaveProperty('autoSave');
  });

  it.each([
    ['PostgreSQL', postgres],
    ['embedded', embedded],
  ])('on %s: entities from the domains, the committed migrations, never synchronize', (_, config) => {
    const options = dataSourceOptionsFor(config, {});
    expect(options).toMatchObject({ autoLoadEntities: true, synchronize: false, migrationsRun: false, migrations: [...MIGRATIONS] });
  });

  it('retries at boot only on network failures', () => {
    const { toRetry } = dataSourceOptionsFor(postgres, {});
    expect(toRetry!(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(toRetry!(Object.assign(new Error('the database system is starting up'), { code: '57P03' }))).toBe(true);
    expect(toRetry!(Object.assign(new Error('database "x" does not exist'), { code: '3D000' }))).toBe(false);
    expect(toRetry!(new Error('a migration failed'))).toBe(false);
  });
});
