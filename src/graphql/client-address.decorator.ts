import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import { GraphqlContext } from './graphql-context';

/**
 * The caller's network address, for login throttling: Fastify's `request.ip`,
 * the socket peer (it honours X-Forwarded-For only once `trustProxy` is set,
 * so a client cannot pick its own address). Over WebSocket @nestjs/apollo
 * puts graphql-ws's context where the request would be: no address, 'unknown'.
 */
export const ClientAddress = createParamDecorator((_: unknown, context: ExecutionContext): string => {
  const { req } = GqlExecutionContext.create(context).getContext<GraphqlContext>();
  return req?.ip ?? req?.socket?.remoteAddress ?? 'unknown';
});
