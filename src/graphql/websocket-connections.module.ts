import { Module } from '@nestjs/common';
import { WebSocketConnections } from './websocket-connections';

/** Holds the registry of live graphql-ws sockets, for the GraphQL module's connect/close hooks. */
@Module({ providers: [WebSocketConnections], exports: [WebSocketConnections] })
export class WebSocketConnectionsModule {}
