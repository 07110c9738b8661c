import { randomUUID } from 'node:crypto';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { EventContext } from '../event-bus/event-context';

export const CORRELATION_HEADER = 'x-correlation-id';
const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Gives every HTTP request a correlation id (the caller's `x-correlation-id`
 * when it is sane, else a new one), echoes it in the response and runs the
 * request's handler inside that event context, so the events it causes carry it.
 *
 * A Fastify `preHandler` hook rather than a Nest middleware: on Fastify those
 * run through a compatibility layer on every request. `preHandler` is the last
 * step before the route's handler, and Fastify calls the handler synchronously
 * from its `done`, so the whole GraphQL request runs inside the context.
 */
@Injectable()
export class CorrelationHook implements OnModuleInit {
  constructor(
    private readonly context: EventContext,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.addHook('preHandler', (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
      const given = request.headers[CORRELATION_HEADER];
      const correlationId = typeof given === 'string' && ACCEPTABLE_ID.test(given) ? given : randomUUID();
      reply.header(CORRELATION_HEADER, correlationId);
      this.context.run({ correlationId }, done);
    });
  }
}
