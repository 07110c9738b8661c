import { ancestorPrefixes, CacheKeyPattern } from './cache-key-pattern';

describe('CacheKeyPattern', () => {
  describe('matching (Redis-style glob over the whole key)', () => {
    const cases: Array<[pattern: string, key: string, matches: boolean]> = [
      ['user:42:*', 'user:42:read', true],
      ['user:42:*', 'user:42:read:apps/*', true],
      ['user:42:*', 'user:42:', true],
      ['user:42:*', 'user:42', false],
      ['user:42:*', 'user:420:read', false],
      ['user:42:*', 'user:4:read', false],
      ['user:*:read', 'user:42:read', true],
      ['user:*:read', 'user:42:apps:read', true],
      ['user:*:read', 'user:42:write', false],
      ['user:4?:read', 'user:42:read', true],
      ['user:4?:read', 'user:420:read', false],
      ['*', 'anything:at:all', true],
      ['*', '', true],
      ['app.v1', 'app.v1', true],
      ['app.v1', 'appxv1', false],
      ['a+b(c)[d]', 'a+b(c)[d]', true],
      ['line:*', 'line:one\ntwo', true],
    ];
    it.each(cases)('%j against %j → %j', (pattern, key, matches) => {
      expect(new CacheKeyPattern(pattern).matches(key)).toBe(matches);
    });
  });

  describe('what a pattern invalidation bumps in Redis', () => {
    it('a trailing * after a segment boundary is exactly that prefix', () => {
      const pattern = new CacheKeyPattern('user:42:*');
      expect(pattern).toMatchObject({ segmentPrefix: 'user:42:', isPrefixWildcard: true, isExactKey: false });
    });

    it('a lone * is the whole namespace', () => {
      expect(new CacheKeyPattern('*')).toMatchObject({ segmentPrefix: '', isPrefixWildcard: true });
    });

    it('a wildcard inside a segment falls back to the enclosing segment prefix (a superset)', () => {
      expect(new CacheKeyPattern('user:4*')).toMatchObject({ segmentPrefix: 'user:', isPrefixWildcard: false });
      expect(new CacheKeyPattern('user:*:read')).toMatchObject({ segmentPrefix: 'user:', isPrefixWildcard: false });
      expect(new CacheKeyPattern('*:read')).toMatchObject({ segmentPrefix: '', isPrefixWildcard: false });
    });

    it('a pattern without wildcards names one key', () => {
      expect(new CacheKeyPattern('user:42:read')).toMatchObject({ isExactKey: true, isPrefixWildcard: false });
    });
  });
});

describe('ancestorPrefixes', () => {
  it('lists the segment prefixes from the namespace root down', () => {
    expect(ancestorPrefixes('user:42:read')).toEqual(['', 'user:', 'user:42:']);
  });

  it('is only the root for a key without separators', () => {
    expect(ancestorPrefixes('my-app')).toEqual(['']);
  });

  it('covers every prefix a matching prefix wildcard can name', () => {
    const key = 'a:b:c:d';
    for (const pattern of ['*', 'a:*', 'a:b:*', 'a:b:c:*']) {
      const parsed = new CacheKeyPattern(pattern);
      expect(parsed.matches(key)).toBe(true);
      expect(ancestorPrefixes(key)).toContain(parsed.segmentPrefix);
    }
  });
});
