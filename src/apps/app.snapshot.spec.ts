import { AppEntity } from './app.entity';
import { AppState } from './app-state';
import { appCacheKey, fromAppSnapshot, toAppSnapshot } from './app.snapshot';

describe('AppSnapshot (what the apps cache namespace holds)', () => {
  const app: AppEntity = {
    id: '0b7f8a9e-3c1d-4e2f-9a8b-7c6d5e4f3a2b',
    name: 'de.easy-m.todos',
    version: '1.2.3',
    state: AppState.INSTALLED,
    installedAt: new Date('2026-01-02T03:04:05.678Z'),
    createdAt: new Date('2026-01-01T00:00:00.000Z'),
    updatedAt: new Date('2026-01-02T03:04:05.678Z'),
  };

  it('survives JSON unchanged, as Redis hands it back', () => {
    const snapshot = toAppSnapshot(app);
    expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot);
  });

  it('gives back the entity with its dates as Dates', () => {
    const back = fromAppSnapshot(JSON.parse(JSON.stringify(toAppSnapshot(app))));
    expect(back).toEqual(app);
    expect(back.installedAt).toBeInstanceOf(Date);
  });

  it('keeps a never-installed app never installed', () => {
    expect(fromAppSnapshot(toAppSnapshot({ ...app, installedAt: null })).installedAt).toBeNull();
  });

  it('gives each caller an entity of its own', () => {
    const snapshot = toAppSnapshot(app);
    const first = fromAppSnapshot(snapshot);
    first.state = AppState.DEREGISTERED;
    expect(fromAppSnapshot(snapshot).state).toBe(AppState.INSTALLED);
  });

  it('keys apps by name, the one thing every app.* event carries', () => {
    expect(appCacheKey('de.easy-m.todos')).toBe('name:de.easy-m.todos');
  });
});
