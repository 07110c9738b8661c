import { connect } from 'node:net';

/** The real services integration suites talk to (DESIGN.md: on loopback on every dev and CI machine). */
export const SERVICES = {
  postgres: { label: 'PostgreSQL', host: '127.0.0.1', port: 5432 },
  redis: { label: 'Redis', host: '127.0.0.1', port: 6379 },
  rabbitmq: { label: 'RabbitMQ', host: '127.0.0.1', port: 5672 },
} as const;

export type ServiceName = keyof typeof SERVICES;

export const TEST_RABBITMQ_URL = 'amqp://guest:guest@127.0.0.1:5672';
export const TEST_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = 'redis://127.0.0.1:6379';

/** Set by global-setup.ts for the test workers: the services that answered. */
// Not APPSERVER_-prefixed: loadConfig rejects unknown APPSERVER_* variables.
const AVAILABLE_VARIABLE = 'JEST_AVAILABLE_SERVICES';

export function probe(host: string, port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export function markAvailable(names: ServiceName[]): void {
  process.env[AVAILABLE_VARIABLE] = names.join(',');
}

export function isAvailable(name: ServiceName): boolean {
  const list = process.env[AVAILABLE_VARIABLE];
  // Run outside jest's global setup (e.g. one file by path): assume present and let connections fail loudly.
  if (list === undefined) return true;
  return list.split(',').includes(name);
}

/**
 * `describe` when every named service answered, otherwise a skipped block.
 * global-setup.ts already printed the one line naming what is missing, and
 * with CI=true it failed the run instead, so CI never gets here with a gap.
 */
export function describeWith(services: ServiceName[], title: string, body: () => void): void {
  const ready = services.every(isAvailable);
  (ready ? describe : describe.skip)(title, body);
}
