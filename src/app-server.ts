import { LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule, AppModuleOptions } from './app.module';
import { AppServerConfig } from './config/app-server.config';

/** Largest request body accepted; GraphQL operations of this API are a few KB at most. */
export const MAX_REQUEST_BODY = '100kb';

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
  return app;
}
