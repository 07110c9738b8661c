import { AppSettingsEntity } from './app-settings.entity';
import { fromSettingsSnapshot, settingsCacheKey, toSettingsSnapshot } from './app-settings.snapshot';

describe('AppSettingsSnapshot (what the settings cache namespace holds)', () => {
  const settings: AppSettingsEntity = {
    appName: 'de.easy-m.todos',
    schema: { type: 'object', properties: { theme: { type: 'string' } } },
    values: { theme: 'dark', nested: { list: [1, 2, 3] } },
    version: 7,
    updatedBy: 'user-1',
    updatedAt: new Date('2026-01-02T03:04:05.678Z'),
  };

  it('survives JSON unchanged, as Redis hands it back', () => {
    const snapshot = toSettingsSnapshot(settings);
    expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot);
  });

  it('gives back the entity with updatedAt as a Date', () => {
    const back = fromSettingsSnapshot(JSON.parse(JSON.stringify(toSettingsSnapshot(settings))));
    expect(back).toEqual(settings);
    expect(back.updatedAt).toBeInstanceOf(Date);
  });

  it('keeps an app without a schema without one', () => {
    expect(fromSettingsSnapshot(toSettingsSnapshot({ ...settings, schema: null })).schema).toBeNull();
  });

  it('keys settings by app name, which every settings event and app.registered carry', () => {
    expect(settingsCacheKey('de.easy-m.todos')).toBe('app:de.easy-m.todos');
  });
});
