import { LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule, AppModuleOptions } from './app.module';
import { AppServerConfig } from './config/app-server.config';

/** Largest request body accepted; GraphQL operations of this API are a few KB at most. */
export const MAX_REQUEST_BODY = '100kb';

/**
 * Largest WebSocket message accepted, as MAX_REQUEST_BODY over HTTP: `ws` would
 * otherwise take messages of up to 100 MiB, before any authentication.
 */
export const MAX_WEBSOCKET_MESSAGE_BYTES = 100 * 1024;

/** Builds the HTTP/WS server the same way for `npm start` and for the end-to-end tests. */
export async function createAppServer(
  config: AppServerConfig,
  options: AppModuleOptions & { logger?: false | LoggerService } = {},
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, options), {
    bodyParser: false,
    ...(options.logger !== undefined ? { logger: options.logger } : {}),
  });
  app.useBodyParser('json', { limit: MAX_REQUEST_BODY });
  // Express hashes every response body for an ETag. GraphQL answers POSTs, which no cache revalidates, and
  // /health must be fresh: the hash is pure cost, a few microseconds per request.
  app.set('etag', false);
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
function limitWebSocketMessages(app: NestExpressApplication): void {
  const driver = app.get(GraphQLModule, { strict: false }).graphQlAdapter as unknown as {
    _subscriptionService?: { wss?: { options?: { maxPayload?: number } } };
  };
  const options = driver._subscriptionService?.wss?.options;
  if (!options || typeof options.maxPayload !== 'number') {
    throw new Error('Cannot limit the size of WebSocket messages: @nestjs/graphql no longer exposes its graphql-ws server');
  }
  options.maxPayload = MAX_WEBSOCKET_MESSAGE_BYTES;
}
