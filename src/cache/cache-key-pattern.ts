/**
 * Cache keys are `:`-separated paths (`user:42:read:apps/*`). A pattern is a
 * glob over the whole key, Redis style: `*` matches any run of characters,
 * `:` included, and `?` exactly one; every other character stands for itself.
 * So `user:42:*` drops everything under user 42.
 */
export class CacheKeyPattern {
  private readonly regex: RegExp;

  /** The longest literal prefix of the pattern that ends on a segment boundary (`user:42:` for `user:42:*`). */
  readonly segmentPrefix: string;

  /** True when the pattern is `<segmentPrefix>*`: it matches exactly the keys under that prefix. */
  readonly isPrefixWildcard: boolean;

  /** True when the pattern has no wildcard at all: it names one key. */
  readonly isExactKey: boolean;

  constructor(readonly pattern: string) {
    const firstWildcard = pattern.search(/[*?]/);
    this.isExactKey = firstWildcard === -1;
    const literal = this.isExactKey ? pattern : pattern.slice(0, firstWildcard);
    this.segmentPrefix = literal.slice(0, literal.lastIndexOf(':') + 1);
    this.isPrefixWildcard = pattern === `${this.segmentPrefix}*`;
    const source = pattern
      .split('')
      .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
      .join('');
    // `s`: a key may contain a newline and `*` must still cover it.
    this.regex = new RegExp(`^${source}$`, 's');
  }

  matches(key: string): boolean {
    return this.regex.test(key);
  }
}

/**
 * The segment-aligned prefixes a key lives under, shortest first, starting
 * with the empty prefix (the whole namespace): `user:42:read` → `''`,
 * `user:`, `user:42:`. A pattern invalidation bumps one of these.
 */
export function ancestorPrefixes(key: string): string[] {
  const prefixes = [''];
  for (let i = key.indexOf(':'); i !== -1; i = key.indexOf(':', i + 1)) prefixes.push(key.slice(0, i + 1));
  return prefixes;
}
