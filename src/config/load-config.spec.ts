import { AppServerConfig } from './app-server.config';
import { ConfigValidationError, loadConfig, parseDurationMs } from './load-config';

/** The problems loadConfig reports for `env`; fails the test if it loads instead. */
function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems;
    throw error;
  }
  throw new Error(`expected loadConfig to reject ${JSON.stringify(env)}`);
}

const RABBIT = { APPSERVER_EVENTBUS_ENABLED: 'true' } as const;

describe('loadConfig', () => {
  describe('with an empty environment', () => {
    let config: AppServerConfig;
    beforeAll(() => {
      config = loadConfig({});
    });

    it('returns an AppServerConfig', () => {
      expect(config).toBeInstanceOf(AppServerConfig);
    });

    it('listens on port 3000', () => {
      expect(config.port).toBe(3000);
    });

    it('uses the embedded database and the L1 cache only', () => {
      expect(config.databaseUrl).toBeUndefined();
      expect(config.redisUrl).toBeUndefined();
    });

    it('runs the bus in memory, outside test mode', () => {
      expect(config.eventBus.transport).toBe('memory');
      expect(config.eventBus.testMode).toBe(false);
    });

    it('leaves the bus namespace to the event bus module (its default)', () => {
      expect(config.eventBus.namespace).toBeUndefined();
    });

    it('has the documented RabbitMQ defaults', () => {
      expect(config.eventBus.rabbitmq).toEqual({
        url: 'amqp://guest:guest@127.0.0.1:5672',
        vhost: '/',
        maxRetries: 5,
        retryDelayMs: 1000,
        prefetchCount: 10,
        consumerTimeoutMs: 30_000,
        queueDurable: true,
        queueAutoDelete: false,
      });
    });

    it('creates no admin', () => {
      expect(config.admin).toBeUndefined();
    });

    it('derives a valid instance id from the host name plus a random suffix', () => {
      expect(config.instanceId).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
      expect(config.instanceId).toMatch(/-[0-9a-f]{8}$/);
      expect(loadConfig({}).instanceId).not.toBe(config.instanceId);
    });
  });

  describe('reading every variable', () => {
    const env = {
      APPSERVER_PORT: '8080',
      APPSERVER_INSTANCE_ID: 'node-a_1.eu',
      APPSERVER_DATABASE_URL: 'postgres://appserver:secret@db:5432/appserver',
      APPSERVER_REDIS_URL: 'redis://cache:6379/2',
      APPSERVER_EVENTBUS_ENABLED: 'true',
      APPSERVER_EVENTBUS_TEST_MODE: 'true',
      APPSERVER_EVENTBUS_NAMESPACE: 'tenant-a.prod_2',
      APPSERVER_RABBITMQ_URL: 'amqps://user:pass@broker:5671',
      APPSERVER_RABBITMQ_VHOST: 'appserver',
      APPSERVER_RABBITMQ_MAX_RETRIES: '3',
      APPSERVER_RABBITMQ_RETRY_DELAY: '250ms',
      APPSERVER_RABBITMQ_PREFETCH_COUNT: '50',
      APPSERVER_RABBITMQ_CONSUMER_TIMEOUT: '2m',
      APPSERVER_RABBITMQ_QUEUE_DURABLE: 'false',
      APPSERVER_RABBITMQ_QUEUE_AUTO_DELETE: 'true',
      APPSERVER_ADMIN_EMAIL: 'admin@example.com',
      APPSERVER_ADMIN_PASSWORD: 'correct horse battery',
    };

    it('parses each one into the typed configuration', () => {
      const config = loadConfig(env);
      expect(config.port).toBe(8080);
      expect(config.instanceId).toBe('node-a_1.eu');
      expect(config.databaseUrl).toBe('postgres://appserver:secret@db:5432/appserver');
      expect(config.redisUrl).toBe('redis://cache:6379/2');
      expect(config.eventBus).toEqual({
        transport: 'rabbitmq',
        testMode: true,
        namespace: 'tenant-a.prod_2',
        rabbitmq: {
          url: 'amqps://user:pass@broker:5671',
          vhost: 'appserver',
          maxRetries: 3,
          retryDelayMs: 250,
          prefetchCount: 50,
          consumerTimeoutMs: 120_000,
          queueDurable: false,
          queueAutoDelete: true,
        },
      });
      expect(config.admin).toEqual({ email: 'admin@example.com', password: 'correct horse battery' });
    });

    it('accepts postgresql:// and rediss:// schemes', () => {
      const config = loadConfig({ APPSERVER_DATABASE_URL: 'postgresql://u@h/db', APPSERVER_REDIS_URL: 'rediss://h:6380' });
      expect(config.databaseUrl).toBe('postgresql://u@h/db');
      expect(config.redisUrl).toBe('rediss://h:6380');
    });

    it.each([
      ['true', true],
      ['1', true],
      ['false', false],
      ['0', false],
    ])('reads the boolean %p as %p', (text, expected) => {
      const config = loadConfig({
        APPSERVER_EVENTBUS_ENABLED: text,
        APPSERVER_EVENTBUS_TEST_MODE: text,
        ...(expected ? { APPSERVER_RABBITMQ_QUEUE_DURABLE: text, APPSERVER_RABBITMQ_QUEUE_AUTO_DELETE: text } : {}),
      });
      expect(config.eventBus.transport).toBe(expected ? 'rabbitmq' : 'memory');
      expect(config.eventBus.testMode).toBe(expected);
      if (expected) {
        expect(config.eventBus.rabbitmq.queueDurable).toBe(true);
        expect(config.eventBus.rabbitmq.queueAutoDelete).toBe(true);
      }
    });

    it('does not trim values: a port with surrounding spaces fails, naming the variable and the value as given', () => {
      const problems = problemsOf({ APPSERVER_PORT: ' 3000 ' });
      expect(problems).toEqual([expect.stringMatching(/^APPSERVER_PORT must be a port number/)]);
      expect(problems[0]).toContain('" 3000 "');
    });

    it.each([
      ['APPSERVER_PORT', '8080\n', {}],
      ['APPSERVER_REDIS_URL', '\tredis://r:6379', {}],
      ['APPSERVER_EVENTBUS_ENABLED', ' true', {}],
      ['APPSERVER_RABBITMQ_RETRY_DELAY', '1s ', RABBIT],
      ['APPSERVER_INSTANCE_ID', ' node-a ', {}],
    ])('rejects %s=%p with surrounding whitespace instead of trimming it', (variable, value, extra) => {
      const problems = problemsOf({ ...extra, [variable]: value });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(new RegExp(`^${variable} `));
      expect(problems[0]).toContain(`"${value}"`);
    });

    it('ignores variables without the APPSERVER_ prefix and undefined values', () => {
      const config = loadConfig({ PATH: '/usr/bin', HOME: '/root', PORT: 'not-a-port', appserver_port: '1', APPSERVER_PORT: undefined });
      expect(config.port).toBe(3000);
    });

    it.each([
      ['1', 1],
      ['65535', 65535],
    ])('accepts the port boundary %s', (text, port) => {
      expect(loadConfig({ APPSERVER_PORT: text }).port).toBe(port);
    });

    it.each([
      ['0', 0],
      ['20', 20],
    ])('accepts APPSERVER_RABBITMQ_MAX_RETRIES=%s', (text, retries) => {
      expect(loadConfig({ ...RABBIT, APPSERVER_RABBITMQ_MAX_RETRIES: text }).eventBus.rabbitmq.maxRetries).toBe(retries);
    });
  });

  describe('durations in the environment', () => {
    it.each([
      ['500ms', 500],
      ['2s', 2000],
      ['1m', 60_000],
      ['1500', 1500],
      ['1.5s', 1500],
    ])('reads APPSERVER_RABBITMQ_RETRY_DELAY=%s as %d ms', (text, ms) => {
      expect(loadConfig({ ...RABBIT, APPSERVER_RABBITMQ_RETRY_DELAY: text }).eventBus.rabbitmq.retryDelayMs).toBe(ms);
    });

    it.each([
      ['100ms', 100],
      ['45s', 45_000],
      ['60m', 3_600_000],
    ])('reads APPSERVER_RABBITMQ_CONSUMER_TIMEOUT=%s as %d ms', (text, ms) => {
      expect(loadConfig({ ...RABBIT, APPSERVER_RABBITMQ_CONSUMER_TIMEOUT: text }).eventBus.rabbitmq.consumerTimeoutMs).toBe(ms);
    });
  });

  describe('empty values', () => {
    it('treats empty and blank strings as unset, falling back to the defaults', () => {
      const config = loadConfig({
        APPSERVER_PORT: '',
        APPSERVER_INSTANCE_ID: ' \t\n',
        APPSERVER_DATABASE_URL: '',
        APPSERVER_REDIS_URL: '   ',
        APPSERVER_EVENTBUS_ENABLED: '',
        APPSERVER_RABBITMQ_PREFETCH_COUNT: '',
        APPSERVER_RABBITMQ_RETRY_DELAY: '',
        APPSERVER_RABBITMQ_QUEUE_DURABLE: '',
      });
      expect(config.port).toBe(3000);
      expect(config.instanceId).toMatch(/-[0-9a-f]{8}$/);
      expect(config.databaseUrl).toBeUndefined();
      expect(config.redisUrl).toBeUndefined();
      expect(config.eventBus.transport).toBe('memory');
      expect(config.eventBus.rabbitmq.prefetchCount).toBe(10);
      expect(config.eventBus.rabbitmq.retryDelayMs).toBe(1000);
      expect(config.eventBus.rabbitmq.queueDurable).toBe(true);
    });

    it('treats an empty bus namespace as unset', () => {
      expect(loadConfig({ APPSERVER_EVENTBUS_NAMESPACE: '' }).eventBus.namespace).toBeUndefined();
    });

    it('does not count an empty RabbitMQ variable as set while the bus runs in memory', () => {
      expect(() => loadConfig({ APPSERVER_RABBITMQ_URL: '', APPSERVER_RABBITMQ_VHOST: ' ' })).not.toThrow();
    });

    it('does not require an admin password when the admin email is empty', () => {
      expect(loadConfig({ APPSERVER_ADMIN_EMAIL: '', APPSERVER_ADMIN_PASSWORD: '' }).admin).toBeUndefined();
      expect(loadConfig({ APPSERVER_ADMIN_EMAIL: ' ', APPSERVER_ADMIN_PASSWORD: '  ' }).admin).toBeUndefined();
    });

    it('treats a blank admin email as unset, so a password alone still asks for it', () => {
      expect(problemsOf({ APPSERVER_ADMIN_EMAIL: '  ', APPSERVER_ADMIN_PASSWORD: 'a-long-enough-password' })).toEqual([
        'APPSERVER_ADMIN_EMAIL must be set when APPSERVER_ADMIN_PASSWORD is set',
      ]);
    });
  });

  describe('rejecting bad values', () => {
    it('throws a ConfigValidationError listing the problems', () => {
      let thrown: unknown;
      try {
        loadConfig({ APPSERVER_PORT: 'abc' });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ConfigValidationError);
      const error = thrown as ConfigValidationError;
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe('ConfigValidationError');
      expect(error.problems).toHaveLength(1);
      expect(error.message).toBe(`Invalid configuration:\n  - ${error.problems[0]}`);
    });

    const bad: Array<[variable: string, value: string, extra: Record<string, string>, reason: RegExp]> = [
      ['APPSERVER_RABBITMQ_PREFETCH_COUNT', 'abc', RABBIT, /whole number from 1 to 65535/],
      ['APPSERVER_RABBITMQ_PREFETCH_COUNT', '0', RABBIT, /between 1 and 65535/],
      ['APPSERVER_RABBITMQ_PREFETCH_COUNT', '70000', RABBIT, /between 1 and 65535/],
      ['APPSERVER_PORT', '70000', {}, /port number between 1 and 65535/],
      ['APPSERVER_PORT', '-1', {}, /port number between 1 and 65535/],
      ['APPSERVER_PORT', '0', {}, /port number between 1 and 65535/],
      ['APPSERVER_PORT', '80.5', {}, /port number/],
      ['APPSERVER_PORT', '3000abc', {}, /port number/],
      ['APPSERVER_EVENTBUS_ENABLED', 'maybe', {}, /true or false/],
      ['APPSERVER_EVENTBUS_ENABLED', 'TRUE', {}, /true or false/],
      ['APPSERVER_EVENTBUS_TEST_MODE', 'yes', {}, /true or false/],
      ['APPSERVER_RABBITMQ_QUEUE_DURABLE', 'sometimes', RABBIT, /true or false/],
      ['APPSERVER_RABBITMQ_QUEUE_AUTO_DELETE', 'no', RABBIT, /true or false/],
      ['APPSERVER_RABBITMQ_RETRY_DELAY', 'soon', RABBIT, /duration such as 500ms/],
      ['APPSERVER_RABBITMQ_RETRY_DELAY', '1h', RABBIT, /duration/],
      ['APPSERVER_RABBITMQ_RETRY_DELAY', '-1s', RABBIT, /duration/],
      ['APPSERVER_RABBITMQ_RETRY_DELAY', '0', RABBIT, /between 1 and 3600000/],
      ['APPSERVER_RABBITMQ_RETRY_DELAY', '61m', RABBIT, /between 1 and 3600000/],
      ['APPSERVER_RABBITMQ_CONSUMER_TIMEOUT', 'forever', RABBIT, /duration such as 500ms/],
      ['APPSERVER_RABBITMQ_CONSUMER_TIMEOUT', '50ms', RABBIT, /between 100 and 3600000/],
      ['APPSERVER_DATABASE_URL', 'mysql://x', {}, /PostgreSQL URL/],
      ['APPSERVER_REDIS_URL', 'http://x', {}, /Redis URL/],
      ['APPSERVER_RABBITMQ_URL', 'http://broker:5672', RABBIT, /AMQP URL/],
      ['APPSERVER_RABBITMQ_MAX_RETRIES', '99', RABBIT, /whole number between 0 and 20/],
      ['APPSERVER_RABBITMQ_MAX_RETRIES', '21', RABBIT, /whole number between 0 and 20/],
      ['APPSERVER_RABBITMQ_MAX_RETRIES', 'three', RABBIT, /whole number from 0 to 20/],
      ['APPSERVER_INSTANCE_ID', 'has spaces', {}, /1-64 characters/],
      ['APPSERVER_INSTANCE_ID', 'x'.repeat(65), {}, /1-64 characters/],
      ['APPSERVER_EVENTBUS_NAMESPACE', 'app server', {}, /1-64 characters/],
      ['APPSERVER_EVENTBUS_NAMESPACE', 'a/b', RABBIT, /1-64 characters/],
      ['APPSERVER_EVENTBUS_NAMESPACE', 'n'.repeat(65), {}, /1-64 characters/],
    ];

    it.each(bad)('rejects %s=%p with a message naming the variable and the value', (variable, value, extra, reason) => {
      const problems = problemsOf({ ...extra, [variable]: value });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toContain(variable);
      expect(problems[0]).toContain(`"${value}"`);
      expect(problems[0]).toMatch(reason);
    });

    it('rejects an unknown APPSERVER_ variable, naming it and listing the known ones', () => {
      const problems = problemsOf({ APPSERVER_FOO: 'bar' });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^APPSERVER_FOO is not a known variable/);
      expect(problems[0]).toContain('APPSERVER_PORT');
      expect(problems[0]).toContain('APPSERVER_RABBITMQ_PREFETCH_COUNT');
    });

    it('rejects an unknown APPSERVER_ variable even when its value is empty', () => {
      expect(problemsOf({ APPSERVER_PROT: '' })[0]).toMatch(/^APPSERVER_PROT is not a known variable/);
    });

    it('reports several problems together, one per variable', () => {
      const problems = problemsOf({
        APPSERVER_FOO: '1',
        APPSERVER_PORT: 'abc',
        APPSERVER_REDIS_URL: 'http://x',
        APPSERVER_EVENTBUS_ENABLED: 'true',
        APPSERVER_RABBITMQ_PREFETCH_COUNT: 'abc',
      });
      expect(problems).toHaveLength(4);
      for (const name of ['APPSERVER_FOO', 'APPSERVER_PORT', 'APPSERVER_REDIS_URL', 'APPSERVER_RABBITMQ_PREFETCH_COUNT']) {
        expect(problems.filter((problem) => problem.startsWith(name))).toHaveLength(1);
      }
    });

    it('reports an out-of-range value alongside a malformed one', () => {
      const problems = problemsOf({
        APPSERVER_PORT: 'abc',
        APPSERVER_EVENTBUS_ENABLED: 'true',
        APPSERVER_RABBITMQ_MAX_RETRIES: '99',
        APPSERVER_RABBITMQ_RETRY_DELAY: 'soon',
        APPSERVER_RABBITMQ_CONSUMER_TIMEOUT: '1ms',
      });
      expect(problems).toHaveLength(4);
      expect(problems).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^APPSERVER_PORT .*"abc"/),
          expect.stringMatching(/^APPSERVER_RABBITMQ_MAX_RETRIES .*"99"/),
          expect.stringMatching(/^APPSERVER_RABBITMQ_RETRY_DELAY .*"soon"/),
          expect.stringMatching(/^APPSERVER_RABBITMQ_CONSUMER_TIMEOUT .*"1ms"/),
        ]),
      );
    });

    it('reports an out-of-range value alongside an unknown variable', () => {
      const problems = problemsOf({ APPSERVER_FOO: 'x', APPSERVER_PORT: '70000' });
      expect(problems).toEqual([expect.stringMatching(/^APPSERVER_FOO /), expect.stringMatching(/^APPSERVER_PORT .*"70000"/)]);
    });

    it('lists every problem in the error message', () => {
      expect(() => loadConfig({ APPSERVER_PORT: '0', APPSERVER_DATABASE_URL: 'mysql://x' })).toThrow(
        /Invalid configuration:\n {2}- .*\n {2}- /,
      );
    });
  });

  describe('RabbitMQ variables while the bus runs in memory', () => {
    it.each(['APPSERVER_RABBITMQ_URL', 'APPSERVER_RABBITMQ_VHOST', 'APPSERVER_RABBITMQ_QUEUE_DURABLE', 'APPSERVER_RABBITMQ_QUEUE_AUTO_DELETE'])(
      'rejects %s set without APPSERVER_EVENTBUS_ENABLED=true',
      (variable) => {
        const value = variable.endsWith('_URL') ? 'amqp://broker:5672' : variable.endsWith('_VHOST') ? 'appserver' : 'true';
        const problems = problemsOf({ [variable]: value });
        expect(problems).toHaveLength(1);
        expect(problems[0]).toContain(`${variable} is set but APPSERVER_EVENTBUS_ENABLED is not true`);
        expect(problems[0]).toContain('set APPSERVER_EVENTBUS_ENABLED=true');
      },
    );

    it('names every conflicting variable in one problem', () => {
      const problems = problemsOf({
        APPSERVER_EVENTBUS_ENABLED: 'false',
        APPSERVER_RABBITMQ_URL: 'amqp://broker:5672',
        APPSERVER_RABBITMQ_VHOST: 'v',
      });
      expect(problems).toEqual([expect.stringContaining('APPSERVER_RABBITMQ_URL, APPSERVER_RABBITMQ_VHOST are set but APPSERVER_EVENTBUS_ENABLED is not true')]);
    });

    it('accepts the same variables once the bus is enabled', () => {
      const config = loadConfig({ APPSERVER_EVENTBUS_ENABLED: '1', APPSERVER_RABBITMQ_URL: 'amqp://broker:5672', APPSERVER_RABBITMQ_VHOST: 'v' });
      expect(config.eventBus.transport).toBe('rabbitmq');
      expect(config.eventBus.rabbitmq.url).toBe('amqp://broker:5672');
    });

    it('accepts APPSERVER_EVENTBUS_NAMESPACE with the bus in memory too: the in-memory exchange is named after it', () => {
      const config = loadConfig({ APPSERVER_EVENTBUS_NAMESPACE: 'shared' });
      expect(config.eventBus).toMatchObject({ transport: 'memory', namespace: 'shared' });
    });

    it('accepts the retry and consumer settings, which the in-memory bus honours too', () => {
      const config = loadConfig({
        APPSERVER_RABBITMQ_MAX_RETRIES: '2',
        APPSERVER_RABBITMQ_RETRY_DELAY: '50ms',
        APPSERVER_RABBITMQ_PREFETCH_COUNT: '4',
        APPSERVER_RABBITMQ_CONSUMER_TIMEOUT: '5s',
      });
      expect(config.eventBus.transport).toBe('memory');
      expect(config.eventBus.rabbitmq).toMatchObject({ maxRetries: 2, retryDelayMs: 50, prefetchCount: 4, consumerTimeoutMs: 5000 });
    });

    it('does not add a misleading conflict when APPSERVER_EVENTBUS_ENABLED itself is invalid', () => {
      const problems = problemsOf({ APPSERVER_EVENTBUS_ENABLED: 'maybe', APPSERVER_RABBITMQ_URL: 'amqp://broker:5672' });
      expect(problems).toEqual([expect.stringMatching(/^APPSERVER_EVENTBUS_ENABLED must be true or false \(got "maybe"\)$/)]);
    });

    it('reports a conflict together with a malformed RabbitMQ value', () => {
      const problems = problemsOf({ APPSERVER_RABBITMQ_URL: 'http://x' });
      expect(problems).toHaveLength(2);
      expect(problems[0]).toMatch(/^APPSERVER_RABBITMQ_URL must be an AMQP URL/);
      expect(problems[1]).toMatch(/APPSERVER_RABBITMQ_URL is set but APPSERVER_EVENTBUS_ENABLED is not true/);
    });
  });

  describe('the first admin', () => {
    it('is configured when both email and a long enough password are set', () => {
      expect(loadConfig({ APPSERVER_ADMIN_EMAIL: 'root@example.com', APPSERVER_ADMIN_PASSWORD: 'twelve-chars' }).admin).toEqual({
        email: 'root@example.com',
        password: 'twelve-chars',
      });
    });

    it('requires a password when the email is set', () => {
      const problems = problemsOf({ APPSERVER_ADMIN_EMAIL: 'root@example.com' });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^APPSERVER_ADMIN_PASSWORD must be at least 12 characters/);
      expect(problems[0]).toContain('APPSERVER_ADMIN_EMAIL');
    });

    it('requires an email when the password is set, without echoing the password', () => {
      const problems = problemsOf({ APPSERVER_ADMIN_PASSWORD: 'a-long-enough-password' });
      expect(problems).toEqual(['APPSERVER_ADMIN_EMAIL must be set when APPSERVER_ADMIN_PASSWORD is set']);
    });

    it('keeps a password with surrounding spaces verbatim', () => {
      const password = '  correct horse battery  ';
      expect(loadConfig({ APPSERVER_ADMIN_EMAIL: 'root@example.com', APPSERVER_ADMIN_PASSWORD: password }).admin).toEqual({
        email: 'root@example.com',
        password,
      });
    });

    it('counts surrounding spaces towards the password length', () => {
      // 10 visible characters plus two spaces make the required 12.
      expect(loadConfig({ APPSERVER_ADMIN_EMAIL: 'root@example.com', APPSERVER_ADMIN_PASSWORD: ' 0123456789 ' }).admin?.password).toBe(
        ' 0123456789 ',
      );
    });

    it('rejects an email with surrounding spaces rather than trimming it', () => {
      const problems = problemsOf({ APPSERVER_ADMIN_EMAIL: ' root@example.com ', APPSERVER_ADMIN_PASSWORD: 'a-long-enough-password' });
      expect(problems).toEqual([expect.stringMatching(/^APPSERVER_ADMIN_EMAIL must be an email address.*" root@example.com "/)]);
    });

    it('rejects an email that is not an address, naming the value', () => {
      const problems = problemsOf({ APPSERVER_ADMIN_EMAIL: 'root', APPSERVER_ADMIN_PASSWORD: 'a-long-enough-password' });
      expect(problems).toEqual([expect.stringMatching(/^APPSERVER_ADMIN_EMAIL must be an email address.*"root"/)]);
    });

    it('rejects a short password without echoing the password', () => {
      const problems = problemsOf({ APPSERVER_ADMIN_EMAIL: 'root@example.com', APPSERVER_ADMIN_PASSWORD: 'hunter2' });
      expect(problems).toEqual([expect.stringMatching(/^APPSERVER_ADMIN_PASSWORD must be at least 12 characters/)]);
      expect(problems[0]).not.toContain('hunter2');
    });
  });
});

describe('parseDurationMs', () => {
  it.each([
    ['500ms', 500],
    ['2s', 2000],
    ['1m', 60_000],
    ['1500', 1500],
    ['0', 0],
    ['1.5s', 1500],
    ['0.5m', 30_000],
    ['2.4', 2],
    ['2.6ms', 3],
  ])('reads %p as %d ms', (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });

  it.each(['', 'soon', '1h', '-1s', '1 s', 's', '1.s', '.5s', '1e3', '1S'])('rejects %p, naming the text', (text) => {
    expect(() => parseDurationMs(text)).toThrow(`not a duration: ${text}`);
  });
});
