import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { GRAPHQL_PATH } from './graphql-path';

/**
 * Apollo's Fastify integration builds a URL from every request's host name
 * (`new URL(url, protocol://hostname/)`), and a Host header that makes no URL
 * (`Host: a b`) threw there: a 500, and an error in the log, that any client
 * could cause at will. Such a request to the GraphQL endpoint gets a 400
 * before it reaches Apollo. Other routes (`GET /health`) never read the host.
 */
@Injectable()
export class HostHeaderHook implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
      if (request.routeOptions.url !== GRAPHQL_PATH || URL.canParse(`${request.protocol}://${request.hostname}/`)) return done();
      void reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: 'The Host header does not name a valid host' });
    });
  }
}
