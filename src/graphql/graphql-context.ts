import type { FastifyRequest } from 'fastify';
import { Principal } from '../common/principal';
import type { ClosableSocket } from './websocket-connections';

/**
 * The context of every GraphQL operation. `principal` is resolved once per
 * HTTP request from `Authorization: Bearer <token>` (see graphql.module.ts),
 * and once per WebSocket connection from `connectionParams.authorization`,
 * both through `SessionAuthenticator`; null means anonymous.
 */
export interface GraphqlContext {
  /** The HTTP request. Over WebSocket, @nestjs/apollo puts graphql-ws's context here instead: use `socket` and `principal`. */
  readonly req?: FastifyRequest;
  readonly principal: Principal | null;
  /** The graphql-ws socket, for operations over WebSocket (to close it, e.g. for a too-slow subscriber). */
  readonly socket?: ClosableSocket;
}
