import { CacheKeyPattern } from './cache-key-pattern';
import { L2KeyLayout } from './l2-key-layout';

describe('L2KeyLayout', () => {
  const layout = new L2KeyLayout('app:cache');

  it('stamps an entry with its own generation, then its prefixes from the namespace epoch down', () => {
    expect(layout.generationsOf('permissions', 'user:42:read')).toEqual([
      'app:cache:permissions:k:user:42:read',
      'app:cache:permissions:p:',
      'app:cache:permissions:p:user:',
      'app:cache:permissions:p:user:42:',
    ]);
    expect(layout.epoch('permissions')).toBe('app:cache:permissions:p:');
  });

  it('keeps entries, key generations and prefix generations apart, even for keys that look like each other', () => {
    const all = [
      layout.entry('users', 'k:x'),
      layout.entry('users', 'x'),
      layout.keyGeneration('users', 'x'),
      layout.keyGeneration('users', 'user:'),
      layout.prefixGeneration('users', 'user:'),
      layout.entry('settings', 'x'),
    ];
    expect(new Set(all).size).toBe(all.length);
  });

  it('puts the generation a prefix pattern bumps among those of every key it matches', () => {
    const keys = ['user:42:read', 'user:42:apps:write', 'user:43:read', 'user:4', 'group:1'];
    for (const pattern of ['*', 'user:*', 'user:42:*', 'user:4*', 'user:*:read']) {
      const parsed = new CacheKeyPattern(pattern);
      const bumped = layout.prefixGeneration('permissions', parsed.segmentPrefix);
      for (const key of keys.filter((k) => parsed.matches(k))) {
        expect(layout.generationsOf('permissions', key)).toContain(bumped);
      }
    }
  });
});
