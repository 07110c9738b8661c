/**
 * Patterns of permission grants, for actions (`settings.*`) and resources
 * (`de.easy-m.*`): `*` matches any run of characters, dots included, so
 * `de.easy-m.*` covers `de.easy-m.todos` and `de.easy-m.todos.beta`, and `*`
 * alone covers everything. Every other character stands for itself; matching
 * is case-sensitive.
 */
export const WILDCARD = '*';

/** What a grant's action or resource may contain: the characters of app names, event types, actions and ids, plus `*`, `:` and `/`. */
export const GRANT_PATTERN = /^[A-Za-z0-9._:/*-]{1,200}$/;
export const GRANT_PATTERN_RULE = 'must be 1-200 characters of letters, digits, ".", "_", "-", ":", "/" and the wildcard "*"';

/** Why `pattern` is not a usable grant pattern, or null when it is. */
export function resourcePatternProblem(pattern: string): string | null {
  return GRANT_PATTERN.test(pattern) ? null : GRANT_PATTERN_RULE;
}

/**
 * Whether `value` matches `pattern`. Linear-time greedy matching with one
 * backtrack point (the classic wildcard algorithm), so no pattern can make a
 * check slow, unlike a regular expression built from it could.
 */
export function matchesPattern(pattern: string, value: string): boolean {
  if (pattern === WILDCARD) return true;
  if (!pattern.includes(WILDCARD)) return pattern === value;
  let p = 0;
  let v = 0;
  let starAt = -1;
  let resumeAt = 0;
  while (v < value.length) {
    if (p < pattern.length && pattern[p] === WILDCARD) {
      starAt = p++;
      resumeAt = v;
    } else if (p < pattern.length && pattern[p] === value[v]) {
      p++;
      v++;
    } else if (starAt !== -1) {
      // Let the last `*` swallow one more character and try again from there.
      p = starAt + 1;
      v = ++resumeAt;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === WILDCARD) p++;
  return p === pattern.length;
}
