import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { EntityManager, IsNull, MoreThan } from 'typeorm';
import { ForbiddenError, NotFoundError, UnauthenticatedError } from '../common/app-errors';
import { actorOf, Principal, SYSTEM_ACTOR } from '../common/principal';
import { UnitOfWork } from '../database/unit-of-work';
import { EnvelopeFor } from '../event-bus/event-envelope';
import { OnEvent } from '../event-bus/on-event.decorator';
import { Outbox } from '../outbox/outbox';
import { PermissionChecker } from '../permissions/permission-checker';
import { normalizeEmail } from '../users/email';
import { PasswordHasher } from '../users/password-hasher';
import { UserEntity } from '../users/user.entity';
import { ACTOR_SESSION_METADATA } from '../users/user.events';
import { UsersService } from '../users/users.service';
import { LoginThrottle } from './login-throttle';
import { passwordStampOf } from './password-stamp';
import { SessionCache } from './session-cache';
import { SessionEntity } from './session.entity';
import { SessionEvents, SessionRevocationReason } from './session.events';
import { hashSessionToken, newSessionToken } from './session-token';
import { ResolvedSessionsOptions, SESSIONS_MODULE_OPTIONS } from './sessions-module.options';

/** What a successful login hands back; the token exists only here and in the client's hands. */
export interface LoginResult {
  readonly token: string;
  readonly session: SessionEntity;
  readonly user: UserEntity;
}

/** One answer for an unknown email and a wrong password alike, so it tells no one who has an account. */
export const INVALID_CREDENTIALS = 'Invalid email or password';

/** The permission to end someone else's session (one's own needs none); checked on the session owner's user id. */
export const REVOKE_SESSIONS_ACTION = 'sessions.revoke';

/**
 * Sessions: login, logout, revocation, and their events. Expiry is the SessionSweeper's.
 *
 * Whatever ends a session drops its cached state (SessionCache) once the
 * transaction has committed and before answering, so this instance refuses
 * the token from the very next request on; the other instances drop it when
 * `session.revoked` arrives (SessionsCacheInvalidator).
 */
@Injectable()
export class SessionsService {
  constructor(
    private readonly unitOfWork: UnitOfWork,
    private readonly outbox: Outbox,
    private readonly users: UsersService,
    private readonly hasher: PasswordHasher,
    private readonly throttle: LoginThrottle,
    private readonly checker: PermissionChecker,
    private readonly cache: SessionCache,
    @Inject(SESSIONS_MODULE_OPTIONS) private readonly options: ResolvedSessionsOptions,
  ) {}

  async login(email: string, password: string, clientAddress: string): Promise<LoginResult> {
    const account = normalizeEmail(email);
    // Counted as a failure from here until it succeeds (see LoginThrottle); refused at once while locked out.
    const attempt = this.throttle.begin(account, clientAddress);
    const user = await this.users.findByEmail(account);
    const valid = user ? await this.hasher.verify(password, user.passwordHash) : await this.hasher.verifyNothing(password);
    if (!user || !valid) throw new UnauthenticatedError(INVALID_CREDENTIALS);
    attempt.succeeded();

    const token = newSessionToken();
    const session = await this.unitOfWork.run(async (tx) => {
      // The password just checked must still be the user's: a change committed meanwhile (the check takes tens
      // of milliseconds) would otherwise leave this session open with the old password. The row lock makes a
      // change that comes now wait for this login, whose session that change's handler then ends
      // (endSessionsAfterPasswordChange); the embedded database runs one unit of work at a time anyway.
      if (!(await this.passwordUnchanged(tx, user.id, user.passwordHash))) throw new UnauthenticatedError(INVALID_CREDENTIALS);
      const now = new Date();
      const opened: SessionEntity = {
        id: randomUUID(),
        userId: user.id,
        tokenHash: hashSessionToken(token),
        createdAt: now,
        expiresAt: new Date(now.getTime() + this.options.sessionTtlMs),
        endedAt: null,
        endReason: null,
        endedBy: null,
        passwordStamp: passwordStampOf(user.passwordHash),
      };
      await tx.insert(SessionEntity, opened);
      await this.outbox.record(tx, SessionEvents.CREATED, { sessionId: opened.id, userId: user.id, expiresAt: opened.expiresAt.toISOString() });
      return opened;
    });
    return { token, session, user };
  }

  private async passwordUnchanged(tx: EntityManager, userId: string, checkedHash: string): Promise<boolean> {
    const current = await tx.findOne(UserEntity, {
      select: { id: true, passwordHash: true },
      where: { id: userId },
      ...(this.unitOfWork.kind === 'postgres' ? { lock: { mode: 'pessimistic_read' as const } } : {}),
    });
    return current?.passwordHash === checkedHash;
  }

  /** Ends the session the principal came with; false for a principal without one (an app). */
  async logout(principal: Principal): Promise<boolean> {
    if (principal.kind !== 'user') return false;
    const session = { id: principal.sessionId, userId: principal.userId };
    const ended = await this.unitOfWork.run((tx) => this.end(tx, session, 'logout', principal.userId));
    await this.dropCachedSession(session);
    return ended;
  }

  /**
   * Ends any open session: one's own always, someone else's with
   * `sessions.revoke` on its owner's user id. False when it had ended already.
   */
  async revoke(sessionId: string, principal: Principal): Promise<boolean> {
    const session = await this.unitOfWork.read((manager) => manager.findOneBy(SessionEntity, { id: sessionId }));
    if (!session) throw new NotFoundError(`No session with id "${sessionId}"`);
    const own = principal.kind === 'user' && principal.userId === session.userId;
    if (!own && !(await this.checker.isAllowed(principal, REVOKE_SESSIONS_ACTION, session.userId))) {
      throw new ForbiddenError(`Permission "${REVOKE_SESSIONS_ACTION}" on "${session.userId}" is required to end another user's session`);
    }
    const ended = await this.unitOfWork.run((tx) => this.end(tx, session, 'revoked', actorOf(principal)));
    await this.dropCachedSession(session);
    return ended;
  }

  /** The user's sessions that are open and not expired, newest first. */
  findOpen(userId: string): Promise<SessionEntity[]> {
    return this.unitOfWork.read((manager) =>
      manager.find(SessionEntity, {
        where: { userId, endedAt: IsNull(), expiresAt: MoreThan(new Date()) },
        order: { createdAt: 'DESC' },
      }),
    );
  }

  /** A deleted user's sessions end with them, once per event across instances; a redelivery finds none open. */
  @OnEvent('user.deleted', { group: 'sessions.revoke-on-user-deleted' })
  async revokeSessionsOfDeletedUser(event: EnvelopeFor<'user.deleted'>): Promise<void> {
    const { userId, deletedBy } = event.data;
    const ended = await this.unitOfWork.run(async (tx) => {
      const open = await tx.find(SessionEntity, { select: { id: true, userId: true }, where: { userId, endedAt: IsNull() } });
      for (const session of open) await this.end(tx, session, 'user-deleted', deletedBy ?? SYSTEM_ACTOR);
      return open;
    });
    // Like every other end of a session (the deletion itself dropped them already, and without the user row none can be cached as open again).
    await Promise.all(ended.map((session) => this.dropCachedSession(session)));
  }

  /**
   * A changed password ends the user's other sessions, as a revocation on every
   * instance would (their sockets close too): every open session opened with
   * another password than the current one, except the session the user changed
   * it in. Sessions opened with the new password stay, whenever they were
   * opened: stamps decide, not the instances' clocks.
   */
  @OnEvent('user.updated', { group: 'sessions.end-on-password-change' })
  async endSessionsAfterPasswordChange(event: EnvelopeFor<'user.updated'>): Promise<void> {
    const { userId, changedFields, updatedBy } = event.data;
    if (!changedFields.includes('password')) return;
    const kept = event.metadata[ACTOR_SESSION_METADATA];
    const ended = await this.unitOfWork.run(async (tx) => {
      const user = await tx.findOne(UserEntity, { select: { id: true, passwordHash: true }, where: { id: userId } });
      // A deleted user's sessions end on user.deleted.
      if (!user) return [];
      const current = passwordStampOf(user.passwordHash);
      const open = await tx.find(SessionEntity, { select: { id: true, userId: true, passwordStamp: true }, where: { userId, endedAt: IsNull() } });
      const others = open.filter((session) => session.id !== kept && session.passwordStamp !== current);
      for (const session of others) await this.end(tx, session, 'revoked', updatedBy ?? SYSTEM_ACTOR);
      return others;
    });
    await Promise.all(ended.map((session) => this.dropCachedSession(session)));
  }

  /**
   * Drops the cached state of a session that has just ended. Called after the
   * commit (a reader in between would cache the open session again), and
   * also when `end` changed nothing: then another request, instance or the
   * sweeper ended it, and this instance may not have had the event yet.
   */
  private dropCachedSession(session: Pick<SessionEntity, 'id' | 'userId'>): Promise<void> {
    return this.cache.dropSession(session.userId, session.id);
  }

  /**
   * Ends the session if it is still open and records `session.revoked`. The
   * conditional update decides between concurrent enders (another request, the
   * sweeper, another instance): only the one that changed the row publishes.
   */
  private async end(tx: EntityManager, session: Pick<SessionEntity, 'id' | 'userId'>, reason: SessionRevocationReason, by: string): Promise<boolean> {
    const result = await tx
      .createQueryBuilder()
      .update(SessionEntity)
      .set({ endedAt: new Date(), endReason: reason, endedBy: by })
      .where('id = :id AND ended_at IS NULL', { id: session.id })
      .execute();
    if ((result.affected ?? 0) === 0) return false;
    await this.outbox.record(tx, SessionEvents.REVOKED, { sessionId: session.id, userId: session.userId, revokedBy: by, reason });
    return true;
  }
}
