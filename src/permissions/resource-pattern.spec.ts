import { matchesPattern, resourcePatternProblem } from './resource-pattern';

describe('matchesPattern', () => {
  it.each([
    ['*', 'de.easy-m.todos'],
    ['*', ''],
    ['de.easy-m.*', 'de.easy-m.todos'],
    ['de.easy-m.*', 'de.easy-m.todos.beta'],
    ['de.easy-m.*', 'de.easy-m.'],
    ['settings.*', 'settings.write'],
    ['*.created', 'user.created'],
    ['*.created', 'a.b.created'],
    ['app.*ed', 'app.installed'],
    ['de.*.todos', 'de.easy-m.todos'],
    ['de.*.todos', 'de.a.b.todos'],
    ['a*b*c', 'abc'],
    ['a*b*c', 'aXbYbZc'],
    ['**', 'anything'],
    ['de.easy-m.todos', 'de.easy-m.todos'],
    ['user:42:*', 'user:42:grants'],
  ])('%p matches %p', (pattern, value) => {
    expect(matchesPattern(pattern, value)).toBe(true);
  });

  it.each([
    ['de.easy-m.*', 'de.easy-m'],
    ['de.easy-m.*', 'de.easy-mx.todos'],
    ['de.easy-m.*', 'com.de.easy-m.todos'],
    ['de.easy-m.todos', 'de.easy-m.todos2'],
    ['de.easy-m.todos', 'DE.EASY-M.TODOS'],
    ['settings.*', 'apps.install'],
    ['settings.write', 'settings.read'],
    ['*.created', 'user.deleted'],
    ['a*b*c', 'aXbYc-'],
    ['a*b*c', 'acb'],
    ['de.*.todos', 'de.todos'],
    ['app.?', 'app.x'],
  ])('%p does not match %p', (pattern, value) => {
    expect(matchesPattern(pattern, value)).toBe(false);
  });

  it('treats characters that are special in regular expressions literally', () => {
    expect(matchesPattern('de.easy-m.todos', 'deXeasy-mXtodos')).toBe(false);
    expect(matchesPattern('a.*', 'a.b')).toBe(true);
    expect(matchesPattern('a.*', 'ab')).toBe(false);
  });

  it('stays fast on patterns that make backtracking regular expressions explode', () => {
    const pattern = `${'*a'.repeat(50)}b`;
    const value = 'a'.repeat(5000);
    const started = Date.now();
    expect(matchesPattern(pattern, value)).toBe(false);
    expect(Date.now() - started).toBeLessThan(500);
  });
});

describe('resourcePatternProblem', () => {
  it.each(['*', 'de.easy-m.*', 'settings.write', 'user:0190c3d8-5f4b-7000-8000-000000000000:*', 'files/*.json'])('accepts %p', (pattern) => {
    expect(resourcePatternProblem(pattern)).toBeNull();
  });

  it.each(['', ' ', 'de easy', 'de.easy-m.?', 'a'.repeat(201), 'café', 'a,b'])('refuses %p, saying what is allowed', (pattern) => {
    expect(resourcePatternProblem(pattern)).toMatch(/must be 1-200 characters/);
  });
});
