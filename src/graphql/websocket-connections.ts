import { Injectable } from '@nestjs/common';
import { EnvelopeFor } from '../event-bus/event-envelope';
import { OnEvent } from '../event-bus/on-event.decorator';

/** Close codes AppServer uses on graphql-ws sockets (4xxx: application-defined; graphql-ws itself uses 4400-4500). */
export const WebSocketCloseCodes = {
  /** No, or an invalid, token at connect. */
  UNAUTHORIZED: 4401,
  /** The session behind the socket was revoked or expired while connected; authenticate again. */
  SESSION_ENDED: 4001,
  /** The client fell too far behind its subscription; it may reconnect. */
  SLOW_CONSUMER: 4008,
} as const;

export interface ClosableSocket {
  close(code: number, reason: string): void;
}

/**
 * The live graphql-ws sockets of this instance by session, so that a session
 * revoked or expired anywhere closes its sockets here at once. Sockets leave
 * when they close; nothing is kept for a closed socket.
 */
@Injectable()
export class WebSocketConnections {
  private readonly bySession = new Map<string, Set<ClosableSocket>>();

  add(sessionId: string, socket: ClosableSocket): void {
    const sockets = this.bySession.get(sessionId) ?? new Set<ClosableSocket>();
    sockets.add(socket);
    this.bySession.set(sessionId, sockets);
  }

  remove(sessionId: string, socket: ClosableSocket): void {
    const sockets = this.bySession.get(sessionId);
    if (!sockets) return;
    sockets.delete(socket);
    if (sockets.size === 0) this.bySession.delete(sessionId);
  }

  get count(): number {
    let total = 0;
    for (const sockets of this.bySession.values()) total += sockets.size;
    return total;
  }

  @OnEvent('session.revoked', { name: 'WebSocketConnections.closeRevoked' })
  closeSocketsOfRevokedSession(event: EnvelopeFor<'session.revoked'>): void {
    this.closeSession(event.data.sessionId, 'Session revoked');
  }

  @OnEvent('session.expired', { name: 'WebSocketConnections.closeExpired' })
  closeSocketsOfExpiredSession(event: EnvelopeFor<'session.expired'>): void {
    this.closeSession(event.data.sessionId, 'Session expired');
  }

  private closeSession(sessionId: string, reason: string): void {
    const sockets = this.bySession.get(sessionId);
    if (!sockets) return;
    this.bySession.delete(sessionId);
    for (const socket of sockets) socket.close(WebSocketCloseCodes.SESSION_ENDED, reason);
  }
}
