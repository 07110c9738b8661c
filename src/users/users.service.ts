import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { CacheService } from '../cache/cache.service';
import { NamespacedCache } from '../cache/namespaced-cache';
import { BadUserInputError, ConflictError, ForbiddenError, NotFoundError } from '../common/app-errors';
import { actorOf, Principal, SYSTEM_ACTOR } from '../common/principal';
import { isUniqueViolation } from '../database/unique-violation';
import { UnitOfWork } from '../database/unit-of-work';
import { Outbox } from '../outbox/outbox';
import { CachingGrantLoader } from '../permissions/caching-grant.loader';
import { subjectInvalidationPattern } from '../permissions/permission-cache-keys';
import { PermissionEvents } from '../permissions/permission.events';
import { SubjectType } from '../permissions/subject-type';
import { SessionCache } from '../sessions/session-cache';
import { CreateUserInput } from './dto/create-user.input';
import { UpdateUserInput } from './dto/update-user.input';
import { normalizeEmail } from './email';
import { PasswordHasher } from './password-hasher';
import { passwordProblem } from './password-policy';
import { UserEntity } from './user.entity';
import { fromUserSnapshot, toUserSnapshot, userCacheKey, UserProfile, UserSnapshot } from './user.snapshot';
import { ACTOR_SESSION_METADATA, UserEvents } from './user.events';
import { UserRole } from './user-role';

type UpdatedField = 'email' | 'displayName' | 'password' | 'role';

/**
 * Users: every change is one transaction with its events. Passwords are
 * hashed before the transaction starts (it is slow and needs no lock).
 * Emails are unique by constraint: a clash, even between instances, is a CONFLICT.
 * Beyond the operation's permission, changes that could take over an admin
 * (making one, changing or deleting one) need an admin, and the last admin
 * can be neither demoted nor deleted.
 *
 * `findById` reads through the `users` cache namespace (without the password
 * hash); lookups by email — login — go to the database. A user's changes
 * reach three namespaces, and once committed, before answering, this service
 * drops all three on this instance's L1 and in Redis (read-your-writes): the
 * user (`users`), the states of their sessions (`sessions`: the principal
 * carries email and role) and, when the role changed or the user is gone,
 * their grants (`permissions`). Every instance drops them again when
 * `user.updated`/`user.deleted` (UsersCacheInvalidator,
 * SessionsCacheInvalidator) and `permission.invalidate`
 * (PermissionsCacheInvalidator) arrive.
 */
@Injectable()
export class UsersService {
  private readonly logger = new Logger(UsersService.name);
  private readonly cache: NamespacedCache<UserSnapshot>;

  constructor(
    private readonly unitOfWork: UnitOfWork,
    private readonly outbox: Outbox,
    private readonly hasher: PasswordHasher,
    // Both from global modules (SessionsModule imports this one, so its cache comes through the global export, not an import).
    private readonly sessions: SessionCache,
    private readonly grants: CachingGrantLoader,
    cache: CacheService,
  ) {
    this.cache = cache.namespace<UserSnapshot>('users');
  }

  /** The user with this id, without the password hash, or null; through the cache (an unknown id is cached as "not found" for a short while). */
  async findById(id: string): Promise<UserProfile | null> {
    const snapshot = await this.cache.getOrLoad(userCacheKey(id), async () => {
      const user = await this.loadById(id);
      return user && toUserSnapshot(user);
    });
    return snapshot && fromUserSnapshot(snapshot);
  }

  /**
   * Drops the cached user from this instance's L1 and from Redis (only the
   * `users` namespace: see dropCachedIdentity for a writer's whole job).
   * Never fails (see NamespacedCache).
   */
  dropCachedUser(id: string): Promise<void> {
    return this.cache.invalidate(userCacheKey(id));
  }

  /** `email` in any case; it is normalized first. */
  findByEmail(email: string): Promise<UserEntity | null> {
    return this.unitOfWork.read((manager) => manager.findOneBy(UserEntity, { email: normalizeEmail(email) }));
  }

  findAll(): Promise<UserEntity[]> {
    return this.unitOfWork.read((manager) => manager.find(UserEntity, { order: { email: 'ASC' } }));
  }

  async create(input: CreateUserInput, by: Principal): Promise<UserEntity> {
    const role = input.role ?? UserRole.USER;
    if (role === UserRole.ADMIN && !isAdmin(by)) throw new ForbiddenError('Only an admin may create an admin');
    const passwordHash = await this.hashChecked(input.password, 'input.password');
    const now = new Date();
    const user: UserEntity = {
      id: randomUUID(),
      email: normalizeEmail(input.email),
      displayName: input.displayName ?? null,
      role,
      passwordHash,
      createdAt: now,
      updatedAt: now,
    };
    const created = await this.unitOfWork.run(async (tx) => {
      if (!(await this.insertIfEmailFree(tx, user))) return false;
      await this.recordCreated(tx, user, actorOf(by));
      return true;
    });
    if (!created) throw emailTaken();
    return user;
  }

  async update(id: string, input: UpdateUserInput, by: Principal): Promise<UserEntity> {
    // From the database, not the cache: checking a password change needs the hash.
    const current = await this.loadById(id);
    if (!current) throw notFound(id);
    await this.checkMayUpdate(current, input, by);
    const passwordHash = input.password === undefined ? undefined : await this.hashChecked(input.password, 'input.password');
    let outcome: { user: UserEntity; changed: UpdatedField[] };
    try {
      outcome = await this.unitOfWork.run(async (tx) => {
        const user = await tx.findOneBy(UserEntity, { id });
        if (!user) throw notFound(id);
        const changes = this.changesOf(user, input, passwordHash);
        const changed = (['email', 'displayName', 'role'] as const).filter((field) => changes[field] !== undefined) as UpdatedField[];
        if (changes.passwordHash !== undefined) changed.push('password');
        if (changed.length === 0) return { user, changed };
        if (changes.role === UserRole.USER) await this.assertNotLastAdmin(tx, user);
        const next: UserEntity = { ...user, ...changes, updatedAt: new Date() };
        await tx.update(UserEntity, { id }, { ...changes, updatedAt: next.updatedAt });
        await this.outbox.record(
          tx,
          UserEvents.UPDATED,
          { userId: id, changedFields: changed, updatedBy: actorOf(by) },
          by.kind === 'user' ? { metadata: { [ACTOR_SESSION_METADATA]: by.sessionId } } : undefined,
        );
        // A role is a permission: whatever any instance cached about this user's rights is stale now.
        if (changes.role !== undefined) await this.recordPermissionsChanged(tx, id, 'role-changed', actorOf(by));
        return { user: next, changed };
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw emailTaken();
      throw error;
    }
    // Committed: drop what the change made stale before answering, so the caller's next request sees it.
    if (outcome.changed.length > 0) await this.dropCachedIdentity(id, { grants: outcome.changed.includes('role') });
    return outcome.user;
  }

  async delete(id: string, by: Principal): Promise<void> {
    await this.unitOfWork.run(async (tx) => {
      const user = await tx.findOneBy(UserEntity, { id });
      if (!user) throw notFound(id);
      if (user.role === UserRole.ADMIN) {
        if (!isAdmin(by)) throw new ForbiddenError('Only an admin may delete an admin');
        await this.assertNotLastAdmin(tx, user);
      }
      await tx.delete(UserEntity, { id });
      // Their sessions and grants go in reaction to user.deleted (sessions and permissions domains);
      // meanwhile their token no longer authenticates: a session's state loads as null without the
      // user row, and the cached states are dropped below (here) and on user.deleted (everywhere).
      await this.outbox.record(tx, UserEvents.DELETED, { userId: id, deletedBy: actorOf(by) });
      await this.recordPermissionsChanged(tx, id, 'user-deleted', actorOf(by));
    });
    // Committed: their tokens are refused from the next request on, here at once and elsewhere when user.deleted arrives.
    await this.dropCachedIdentity(id, { grants: true });
  }

  /**
   * Creates the admin named by the configuration unless a user with that email
   * exists. Instances booting together race safely: the insert ignores an
   * existing email and only the one whose row landed records `user.created`.
   */
  async createInitialAdmin(email: string, password: string): Promise<'created' | 'exists'> {
    const problem = passwordProblem(password);
    if (problem) throw new Error(`APPSERVER_ADMIN_PASSWORD: ${problem}`);
    const now = new Date();
    const user: UserEntity = {
      id: randomUUID(),
      email: normalizeEmail(email),
      displayName: null,
      role: UserRole.ADMIN,
      passwordHash: await this.hasher.hash(password),
      createdAt: now,
      updatedAt: now,
    };
    return this.unitOfWork.run(async (tx) => {
      if (!(await this.insertIfEmailFree(tx, user))) {
        const existing = await tx.findOneBy(UserEntity, { email: user.email });
        if (existing?.role !== UserRole.ADMIN) {
          this.logger.warn(`APPSERVER_ADMIN_EMAIL names an existing user who is not an admin; left as is`);
        }
        return 'exists';
      }
      await this.recordCreated(tx, user, SYSTEM_ACTOR);
      return 'created';
    });
  }

  /** Straight from the database, with the password hash; bypasses the cache. */
  private loadById(id: string): Promise<UserEntity | null> {
    return this.unitOfWork.read((manager) => manager.findOneBy(UserEntity, { id }));
  }

  /**
   * Drops, after the commit of a change to user `id` and before answering,
   * everything cached that the change made stale: the user, their sessions'
   * states and, with `grants`, their grants — on this instance's L1 and in
   * Redis, so this instance and any instance missing L1 see the change at
   * once. Never inside the transaction (a reader in between would cache the
   * old row again). Never fails (see NamespacedCache).
   */
  private async dropCachedIdentity(id: string, { grants }: { grants: boolean }): Promise<void> {
    await Promise.all([
      this.dropCachedUser(id),
      this.sessions.dropSessionsOfUser(id),
      grants ? this.grants.dropCached(subjectInvalidationPattern({ type: SubjectType.USER, id })) : undefined,
    ]);
  }

  /** Inserts `user` unless its email is taken (also by a concurrent transaction); true when this row went in. */
  private async insertIfEmailFree(tx: EntityManager, user: UserEntity): Promise<boolean> {
    await tx.createQueryBuilder().insert().into(UserEntity).values(user).orIgnore().updateEntity(false).execute();
    // Portable "did my row land": the row holding the email is ours only if it has our id.
    const holder = await tx.findOne(UserEntity, { select: { id: true }, where: { email: user.email } });
    return holder?.id === user.id;
  }

  private async recordCreated(tx: EntityManager, user: UserEntity, actor: string): Promise<void> {
    await this.outbox.record(tx, UserEvents.CREATED, {
      userId: user.id,
      email: user.email,
      ...(user.displayName !== null ? { displayName: user.displayName } : {}),
      role: user.role,
      createdBy: actor,
    });
  }

  private async recordPermissionsChanged(tx: EntityManager, userId: string, change: 'role-changed' | 'user-deleted', actor: string): Promise<void> {
    await this.outbox.record(tx, PermissionEvents.INVALIDATE, {
      pattern: subjectInvalidationPattern({ type: SubjectType.USER, id: userId }),
      change,
      changedBy: actor,
    });
  }

  /** The checks beyond the operation's permission (the guard has let `by` act on this user already). */
  private async checkMayUpdate(user: UserEntity, input: UpdateUserInput, by: Principal): Promise<void> {
    const self = by.kind === 'user' && by.userId === user.id;
    if (input.role !== undefined && input.role !== user.role && !isAdmin(by)) throw new ForbiddenError('Only an admin may change a role');
    if (user.role === UserRole.ADMIN && !self && !isAdmin(by)) throw new ForbiddenError('Only an admin may change an admin');
    if (self && input.password !== undefined) {
      // A stolen session must not be enough to lock the owner out of their account.
      const confirmed = input.currentPassword !== undefined && (await this.hasher.verify(input.currentPassword, user.passwordHash));
      if (!confirmed) {
        throw new BadUserInputError('Changing your own password needs your current password', [
          { field: 'input.currentPassword', reason: 'must be your current password' },
        ]);
      }
    }
  }

  private changesOf(user: UserEntity, input: UpdateUserInput, passwordHash: string | undefined): Partial<UserEntity> {
    const changes: Partial<UserEntity> = {};
    if (input.email !== undefined && normalizeEmail(input.email) !== user.email) changes.email = normalizeEmail(input.email);
    if (input.displayName !== undefined && (input.displayName ?? null) !== user.displayName) changes.displayName = input.displayName ?? null;
    if (input.role !== undefined && input.role !== user.role) changes.role = input.role;
    if (passwordHash !== undefined) changes.passwordHash = passwordHash;
    return changes;
  }

  /** Refuses to remove the last admin; on PostgreSQL the admin rows stay locked until commit, so two removals cannot both pass. */
  private async assertNotLastAdmin(tx: EntityManager, user: UserEntity): Promise<void> {
    const query = tx.createQueryBuilder(UserEntity, 'u').select('u.id').where('u.role = :role', { role: UserRole.ADMIN });
    if (this.unitOfWork.kind === 'postgres') query.setLock('pessimistic_write');
    const admins = await query.getMany();
    if (admins.length <= 1 && admins.some((admin) => admin.id === user.id)) {
      throw new ConflictError('This is the last admin: make another user an admin first', { currentRole: UserRole.ADMIN });
    }
  }

  private async hashChecked(password: string, field: string): Promise<string> {
    const problem = passwordProblem(password);
    if (problem) throw new BadUserInputError(`Invalid input: ${field}: ${problem}`, [{ field, reason: problem }]);
    return this.hasher.hash(password);
  }
}

function isAdmin(principal: Principal): boolean {
  return principal.kind === 'user' && principal.isAdmin;
}

function notFound(id: string): NotFoundError {
  return new NotFoundError(`No user with id "${id}"`);
}

function emailTaken(): ConflictError {
  return new ConflictError('A user with this email already exists');
}
