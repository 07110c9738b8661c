import { assertValidTopicPattern, compileTopicPattern } from './topic-pattern';

/** [pattern, routing keys it must match, routing keys it must not match] */
type Case = [pattern: string, matches: string[], nonMatches: string[]];

describe('compileTopicPattern (AMQP 0-9-1 topic semantics)', () => {
  const cases: Case[] = [
    ['app.installed', ['app.installed'], ['app', 'app.installed.x', 'x.app.installed', 'app.uninstalled', 'app.Installed', 'app_installed']],
    ['app.*', ['app.installed', 'app.registered', 'app.x'], ['app', 'app.a.b', 'settings.updated', 'apps.installed', 'x.app.installed']],
    ['*.created', ['user.created', 'session.created'], ['created', 'user.created.x', 'a.b.created', 'user.updated']],
    ['app.#', ['app', 'app.installed', 'app.a.b', 'app.a.b.c.d'], ['apps', 'apps.installed', 'settings.app', 'x.app.installed']],
    ['#', ['app', 'app.installed', 'a.b.c.d.e', 'user.created'], []],
    ['#.created', ['created', 'user.created', 'a.b.created'], ['user.created.x', 'user.updated', 'createdx']],
    ['app.#.x', ['app.x', 'app.a.x', 'app.a.b.c.x'], ['app', 'app.a', 'app.x.a', 'x.app.x', 'app.a.b']],
    ['*.*', ['app.installed', 'user.created'], ['app', 'a.b.c']],
    ['*', ['app', 'user'], ['app.installed']],
    ['*.#', ['app', 'app.installed', 'a.b.c'], []],
    ['#.*', ['app', 'app.installed', 'a.b.c'], []],
    ['*.*.*', ['a.b.c'], ['a.b', 'a.b.c.d']],
    ['#.#', ['app', 'app.installed', 'a.b.c'], []],
    ['#.app.#', ['app', 'app.installed', 'x.app', 'x.y.app.z.w'], ['apps', 'x.apps.y', 'a.b']],
    ['#.a.#.b.#', ['a.b', 'x.a.y.b.z', 'a.a.b.b', 'a.x.y.z.b'], ['b.a', 'a', 'b', 'x.b.y.a']],
    ['app.*.#', ['app.installed', 'app.a.b', 'app.a.b.c'], ['app', 'settings.updated']],
    ['*.installed.#', ['app.installed', 'app.installed.x.y'], ['installed', 'app.uninstalled']],
    ['settings.validation_failed', ['settings.validation_failed'], ['settings.validation-failed']],
  ];

  describe.each(cases)('pattern "%s"', (pattern, matches, nonMatches) => {
    const matcher = compileTopicPattern(pattern);

    if (matches.length > 0) {
      it.each(matches)('matches "%s"', (key) => {
        expect(matcher(key)).toBe(true);
      });
    }

    if (nonMatches.length > 0) {
      it.each(nonMatches)('does not match "%s"', (key) => {
        expect(matcher(key)).toBe(false);
      });
    }
  });

  it('treats "*" as exactly one word, never zero', () => {
    expect(compileTopicPattern('app.*.x')('app.x')).toBe(false);
    expect(compileTopicPattern('app.*.x')('app.a.x')).toBe(true);
    expect(compileTopicPattern('app.*.x')('app.a.b.x')).toBe(false);
  });

  it('treats "#" as zero or more words', () => {
    const matcher = compileTopicPattern('a.#.z');
    expect(matcher('a.z')).toBe(true);
    expect(matcher('a.m.z')).toBe(true);
    expect(matcher('a.m.n.o.p.z')).toBe(true);
  });

  it('compares words case-sensitively, as RabbitMQ does', () => {
    expect(compileTopicPattern('App.*')('app.installed')).toBe(false);
    expect(compileTopicPattern('app.*')('APP.installed')).toBe(false);
  });

  it('matches a long routing key against several "#" in reasonable time', () => {
    const key = Array.from({ length: 40 }, (_, i) => `w${i}`).join('.');
    const matcher = compileTopicPattern('#.w0.#.w39');
    expect(matcher(key)).toBe(true);
    expect(compileTopicPattern('#.w39.#.w0')(key)).toBe(false);
  });

  it('returns an independent matcher per pattern', () => {
    const installed = compileTopicPattern('app.installed');
    const wildcard = compileTopicPattern('app.*');
    expect(installed('app.registered')).toBe(false);
    expect(wildcard('app.registered')).toBe(true);
  });
});

describe('assertValidTopicPattern', () => {
  it.each(['app.installed', 'app.*', '*.created', 'app.#', '#', '*', 'a-b.c_d.E9', 'settings.validation_failed', 'a'.repeat(255)])(
    'accepts "%s"',
    (pattern) => {
      expect(() => assertValidTopicPattern(pattern)).not.toThrow();
    },
  );

  const invalid: Array<[description: string, pattern: string, message: RegExp]> = [
    ['an empty pattern', '', /Invalid topic pattern "": must be 1-255 characters/],
    ['a pattern longer than 255 characters', 'a'.repeat(256), /must be 1-255 characters/],
    ['an empty word between dots', 'app..x', /Invalid topic pattern "app\.\.x": "" must be "\*", "#" or a word/],
    ['a leading dot', '.app', /Invalid topic pattern "\.app": "" must be/],
    ['a trailing dot', 'app.', /Invalid topic pattern "app\.": "" must be/],
    ['a wildcard inside a word', 'app.in*', /Invalid topic pattern "app\.in\*": "in\*" must be/],
    ['a "#" inside a word', 'app.#x', /"#x" must be/],
    ['a "**" word', 'app.**', /"\*\*" must be/],
    ['a space inside a word', 'app.in stalled', /Invalid topic pattern "app\.in stalled": "in stalled" must be/],
    ['surrounding spaces', ' app.installed ', /" app" must be/],
    ['a slash', 'app/installed', /"app\/installed" must be/],
    ['non-ASCII letters', 'app.installé', /"installé" must be/],
  ];

  it.each(invalid)('rejects %s with a message naming the pattern and the bad word', (_description, pattern, message) => {
    expect(() => assertValidTopicPattern(pattern)).toThrow(message);
  });

  it('is applied by compileTopicPattern, so an invalid pattern never compiles', () => {
    expect(() => compileTopicPattern('app..x')).toThrow(/Invalid topic pattern "app\.\.x"/);
    expect(() => compileTopicPattern('')).toThrow(/must be 1-255 characters/);
    expect(() => compileTopicPattern('app.in*')).toThrow(/"in\*" must be/);
    expect(() => compileTopicPattern('app installed')).toThrow(/"app installed" must be/);
  });
});
