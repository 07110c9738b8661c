import { Logger, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { WebSocket, WebSocketServer } from 'ws';
import { AppModule, AppModuleOptions } from './app.module';
import { AppServerConfig } from './config/app-server.config';

/** Largest request body accepted (bytes; 413 beyond); GraphQL operations of this API are a few KB at most. */
export const MAX_REQUEST_BODY_BYTES = 100 * 1024;

/**
 * How long a client may take to send one whole HTTP request. Fastify turns
 * Node's own limit (300 s) off by default; without one, a client trickling a
 * body byte by byte holds its connection forever. Sockets upgraded to
 * graphql-ws are not subject to it.
 */
export const REQUEST_TIMEOUT_MS = 60_000;

/**
 * Largest WebSocket message accepted, as MAX_REQUEST_BODY_BYTES over HTTP: `ws` would
 * otherwise take messages of up to 100 MiB, before any authentication.
 */
export const MAX_WEBSOCKET_MESSAGE_BYTES = 100 * 1024;

/**
 * Builds the HTTP/WS server the same way for `npm start` and for the end-to-end tests.
 *
 * On Fastify rather than Express: every request pays the HTTP layer's fixed
 * cost, and a request answered from L1 costs little else. Express's router,
 * body-parser stack and middleware chain took about a fifth of the server's
 * CPU for such a request; Fastify's routing and JSON parsing cost a fraction
 * of that (README, "Benchmarks").
 */
export async function createAppServer(
  config: AppServerConfig,
  options: AppModuleOptions & { logger?: false | LoggerService } = {},
): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config, options),
    new FastifyAdapter({
      bodyLimit: MAX_REQUEST_BODY_BYTES,
      requestTimeout: REQUEST_TIMEOUT_MS,
      // `/graphql/` and `/health/` answer as they did on Express.
      routerOptions: { ignoreTrailingSlash: true },
    }),
    // Fastify's own parsers only (JSON, text): Nest's would add form bodies, which no route here takes.
    { bodyParser: false, ...(options.logger !== undefined ? { logger: options.logger } : {}) },
  );
  await app.init();
  try {
    limitWebSocketMessages(app);
  } catch (error) {
    await app.close();
    throw error;
  }
  return app;
}

/**
 * @nestjs/graphql creates its graphql-ws server without options, and offers
 * none; `ws` reads `maxPayload` from those options for every new connection.
 * Fails the boot, rather than serving without the limit, should that change.
 */
function limitWebSocketMessages(app: NestFastifyApplication): void {
  const driver = app.get(GraphQLModule, { strict: false }).graphQlAdapter as unknown as {
    _subscriptionService?: { wss?: WebSocketServer };
  };
  const wss = driver._subscriptionService?.wss;
  if (!wss?.options || typeof wss.options.maxPayload !== 'number') {
    throw new Error('Cannot limit the size of WebSocket messages: @nestjs/graphql no longer exposes its graphql-ws server');
  }
  wss.options.maxPayload = MAX_WEBSOCKET_MESSAGE_BYTES;
  const logger = new Logger('WebSocket');
  // graphql-ws reports every socket error as "Internal error ... check your implementation" on stderr. A
  // message over the limit is the client's doing, and ws has already closed its socket with 1009: say so
  // quietly (anyone could repeat it), and leave every other error to graphql-ws. Runs after graphql-ws's own
  // 'connection' listener, which registered its handler first.
  wss.on('connection', (socket: WebSocket) => {
    const reportedByGraphqlWs = socket.listeners('error') as Array<(error: Error) => void>;
    socket.removeAllListeners('error');
    socket.on('error', (error: Error & { code?: string }) => {
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        logger.debug(`Closed a socket whose message exceeded ${MAX_WEBSOCKET_MESSAGE_BYTES} bytes (1009)`);
        return;
      }
      for (const listener of reportedByGraphqlWs) listener.call(socket, error);
    });
  });
}
