import { randomUUID } from 'node:crypto';
import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { EventContext } from '../event-bus/event-context';

export const CORRELATION_HEADER = 'x-correlation-id';
const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Gives every HTTP request a correlation id (the caller's `x-correlation-id`
 * when it is sane, else a new one), echoes it in the response and runs the
 * request inside that event context, so the events it causes carry it.
 */
@Injectable()
export class CorrelationMiddleware implements NestMiddleware {
  constructor(private readonly context: EventContext) {}

  use(request: Request, response: Response, next: NextFunction): void {
    const given = request.header(CORRELATION_HEADER);
    const correlationId = given && ACCEPTABLE_ID.test(given) ? given : randomUUID();
    response.setHeader(CORRELATION_HEADER, correlationId);
    this.context.run({ correlationId }, next);
  }
}
