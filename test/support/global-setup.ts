import { markAvailable, probe, SERVICES, ServiceName } from './services';

/**
 * Probes PostgreSQL, Redis and RabbitMQ once before the integration suites.
 * CI=true: a missing service fails the run. Otherwise the suites that need it
 * are skipped, announced by one line naming what is missing.
 */
export default async function globalSetup(): Promise<void> {
  const names = Object.keys(SERVICES) as ServiceName[];
  const answers = await Promise.all(names.map((name) => probe(SERVICES[name].host, SERVICES[name].port)));
  const available = names.filter((_, i) => answers[i]);
  const missing = names.filter((_, i) => !answers[i]).map((name) => `${SERVICES[name].label} (${SERVICES[name].host}:${SERVICES[name].port})`);
  if (missing.length > 0) {
    if (process.env.CI === 'true') {
      throw new Error(`CI=true and these services do not answer: ${missing.join(', ')}. Integration suites never skip in CI.`);
    }
    process.stdout.write(`\nSkipping the integration suites that need ${missing.join(', ')}: not reachable. Unit and in-memory suites still run.\n`);
  }
  markAvailable(available);
}
