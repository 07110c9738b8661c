import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createAppServer } from './app-server';
import { AppServerConfig } from './config/app-server.config';
import { ConfigValidationError, loadConfig } from './config/load-config';

function readConfig(): AppServerConfig {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigValidationError)) throw error;
    // A bad setting must stop the server before anything starts, naming the variable.
    process.stderr.write(`AppServer cannot start. ${error.message}\n`);
    process.exit(1);
  }
}

async function bootstrap(): Promise<void> {
  const config = readConfig();
  const app = await createAppServer(config);
  // SIGTERM/SIGINT: stop consuming, finish in-flight handlers, then close (see EventBus.close).
  app.enableShutdownHooks();
  // Every interface, as a container's published port needs (Fastify alone would listen on localhost only).
  await app.listen(config.port, '0.0.0.0');
  new Logger('AppServer').log(
    `Listening on port ${config.port} as instance ${config.instanceId}; event bus: ${config.eventBus.transport}` +
      `; database: ${config.databaseUrl ? 'PostgreSQL' : 'embedded (./data)'}; cache: ${config.redisUrl ? 'L1 + Redis L2' : 'L1 only'}`,
  );
}

bootstrap().catch((error: Error) => {
  process.stderr.write(`AppServer failed to start: ${error.message}\n`);
  process.exit(1);
});
