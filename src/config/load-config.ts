import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { AppServerConfig } from './app-server.config';
import { DURATION, EnvironmentVariables, KNOWN_VARIABLES } from './environment-variables';

/** A configuration that cannot run; `problems` lists one line per variable. */
export class ConfigValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigValidationError';
  }
}

/**
 * Settings that only mean something to a broker. Retries, prefetch and the
 * consumer timeout are not among them: the in-memory bus honours those too.
 */
const BROKER_ONLY_VARIABLES = [
  'APPSERVER_RABBITMQ_URL',
  'APPSERVER_RABBITMQ_VHOST',
  'APPSERVER_RABBITMQ_QUEUE_DURABLE',
  'APPSERVER_RABBITMQ_QUEUE_AUTO_DELETE',
] as const;

/**
 * Reads and validates the environment once. Nothing else in AppServer reads
 * `process.env`: main.ts passes it here and injects the result.
 */
export function loadConfig(env: Record<string, string | undefined>): AppServerConfig {
  const raw: Record<string, string> = {};
  const problems: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('APPSERVER_') || value === undefined) continue;
    if (!(KNOWN_VARIABLES as readonly string[]).includes(name)) {
      problems.push(`${name} is not a known variable (known: ${KNOWN_VARIABLES.join(', ')})`);
      continue;
    }
    // An empty value means "unset", as shells and compose files commonly write it. Values are kept as given
    // (a password may start or end with a space); a stray space elsewhere fails validation with its variable's name.
    if (value.trim() !== '') raw[name] = value;
  }

  const vars = plainToInstance(EnvironmentVariables, raw);
  const malformed = new Set<string>();
  for (const error of validateSync(vars, { forbidUnknownValues: true })) {
    malformed.add(error.property);
    problems.push(...Object.values(error.constraints ?? {}));
  }
  // Range and consistency checks run on the well-formed variables, so one bad value does not hide the others.
  problems.push(...checkRanges(vars, malformed));
  if (!malformed.has('APPSERVER_EVENTBUS_ENABLED')) problems.push(...checkConsistency(vars));
  if (problems.length > 0) throw new ConfigValidationError(problems);

  const busEnabled = parseBoolean(vars.APPSERVER_EVENTBUS_ENABLED, false);
  return new AppServerConfig(
    Number(vars.APPSERVER_PORT ?? 3000),
    vars.APPSERVER_INSTANCE_ID ?? `${hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 48)}-${randomBytes(4).toString('hex')}`,
    vars.APPSERVER_DATABASE_URL,
    vars.APPSERVER_REDIS_URL,
    {
      transport: busEnabled ? 'rabbitmq' : 'memory',
      testMode: parseBoolean(vars.APPSERVER_EVENTBUS_TEST_MODE, false),
      namespace: vars.APPSERVER_EVENTBUS_NAMESPACE,
      rabbitmq: {
        url: vars.APPSERVER_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
        vhost: vars.APPSERVER_RABBITMQ_VHOST ?? '/',
        maxRetries: Number(vars.APPSERVER_RABBITMQ_MAX_RETRIES ?? 5),
        retryDelayMs: parseDurationMs(vars.APPSERVER_RABBITMQ_RETRY_DELAY ?? '1s'),
        prefetchCount: Number(vars.APPSERVER_RABBITMQ_PREFETCH_COUNT ?? 10),
        consumerTimeoutMs: parseDurationMs(vars.APPSERVER_RABBITMQ_CONSUMER_TIMEOUT ?? '30s'),
        queueDurable: parseBoolean(vars.APPSERVER_RABBITMQ_QUEUE_DURABLE, true),
        queueAutoDelete: parseBoolean(vars.APPSERVER_RABBITMQ_QUEUE_AUTO_DELETE, false),
      },
    },
    vars.APPSERVER_ADMIN_EMAIL !== undefined
      ? { email: vars.APPSERVER_ADMIN_EMAIL, password: vars.APPSERVER_ADMIN_PASSWORD ?? '' }
      : undefined,
  );
}

/** `500ms`, `1s`, `2m` or bare milliseconds, as accepted by the duration variables. */
export function parseDurationMs(text: string): number {
  const match = DURATION.exec(text);
  if (!match) throw new Error(`not a duration: ${text}`);
  const unit = { ms: 1, s: 1000, m: 60_000 }[(match[2] ?? 'ms') as 'ms' | 's' | 'm'];
  return Math.round(Number(match[1]) * unit);
}

function parseBoolean(text: string | undefined, fallback: boolean): boolean {
  return text === undefined ? fallback : text === 'true' || text === '1';
}

/** Bounds of the numeric variables; `malformed` ones already have a problem and are not parsed. */
function checkRanges(vars: EnvironmentVariables, malformed: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const inRange = (name: keyof EnvironmentVariables, parse: (text: string) => number, min: number, max: number, what: string) => {
    const text = vars[name];
    if (text === undefined || malformed.has(name)) return;
    const value = parse(text);
    if (value < min || value > max) problems.push(`${name} must be ${what} between ${min} and ${max} (got "${text}")`);
  };
  inRange('APPSERVER_PORT', Number, 1, 65535, 'a port number');
  inRange('APPSERVER_RABBITMQ_MAX_RETRIES', Number, 0, 20, 'a whole number');
  inRange('APPSERVER_RABBITMQ_PREFETCH_COUNT', Number, 1, 65535, 'a whole number');
  inRange('APPSERVER_RABBITMQ_RETRY_DELAY', parseDurationMs, 1, 3_600_000, 'a duration (ms)');
  inRange('APPSERVER_RABBITMQ_CONSUMER_TIMEOUT', parseDurationMs, 100, 3_600_000, 'a duration (ms)');
  return problems;
}

/**
 * Settings that are each valid but contradict one another. Silently ignoring
 * them would run a different transport than the operator believes.
 */
function checkConsistency(vars: EnvironmentVariables): string[] {
  const problems: string[] = [];
  if (!parseBoolean(vars.APPSERVER_EVENTBUS_ENABLED, false)) {
    const rabbitSettings = BROKER_ONLY_VARIABLES.filter((name) => vars[name] !== undefined);
    if (rabbitSettings.length > 0) {
      problems.push(
        `${rabbitSettings.join(', ')} ${rabbitSettings.length === 1 ? 'is' : 'are'} set but APPSERVER_EVENTBUS_ENABLED is not true: ` +
          'set APPSERVER_EVENTBUS_ENABLED=true to use RabbitMQ, or unset them to run the bus in memory',
      );
    }
  }
  return problems;
}
