import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { EntityManager, FindOptionsWhere } from 'typeorm';
import { BadUserInputError, NotFoundError } from '../common/app-errors';
import { SYSTEM_ACTOR } from '../common/principal';
import { APP_NAME } from '../apps/dto/register-app.input';
import { UnitOfWork } from '../database/unit-of-work';
import { EnvelopeFor } from '../event-bus/event-envelope';
import { OnEvent } from '../event-bus/on-event.decorator';
import { Outbox } from '../outbox/outbox';
import { UserEntity } from '../users/user.entity';
import { CachingGrantLoader } from './caching-grant.loader';
import { PermissionInput } from './dto/permission.input';
import { subjectInvalidationPattern } from './permission-cache-keys';
import { PermissionGrantEntity } from './permission-grant.entity';
import { PermissionChange, PermissionEvents } from './permission.events';
import { PermissionSubject, SubjectType } from './subject-type';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Permission grants. Every change that alters what a subject may do records
 * `permission.invalidate` with the pattern of that subject's cache entries
 * (`user:<id>:*`, `app:<name>:*`), in the same transaction, and drops that
 * pattern from this instance's L1 and from Redis once committed, before
 * answering: the next check anywhere that misses L1 — and every check on this
 * instance — sees the change; the other instances' L1 follows when the event
 * arrives (PermissionsCacheInvalidator).
 */
@Injectable()
export class PermissionsService {
  constructor(
    private readonly unitOfWork: UnitOfWork,
    private readonly outbox: Outbox,
    private readonly grants: CachingGrantLoader,
  ) {}

  list(filter: { subjectType?: SubjectType; subject?: string }): Promise<PermissionGrantEntity[]> {
    const where: FindOptionsWhere<PermissionGrantEntity> = {};
    if (filter.subjectType) where.subjectType = filter.subjectType;
    if (filter.subject) where.subject = filter.subject;
    return this.unitOfWork.read((manager) =>
      manager.find(PermissionGrantEntity, { where, order: { subjectType: 'ASC', subject: 'ASC', action: 'ASC', resource: 'ASC' } }),
    );
  }

  /** Grants `input`; resolves false when the subject already held exactly this grant (nothing changes, nothing is published). */
  async grant(input: PermissionInput, actor: string): Promise<boolean> {
    this.checkSubject(input);
    const granted = await this.unitOfWork.run(async (tx) => {
      if (input.subjectType === SubjectType.USER && !(await tx.findOneBy(UserEntity, { id: input.subject }))) {
        throw new NotFoundError(`No user with id "${input.subject}"`);
      }
      const id = randomUUID();
      await tx
        .createQueryBuilder()
        .insert()
        .into(PermissionGrantEntity)
        .values({ id, ...keyOf(input), grantedBy: actor, grantedAt: new Date() })
        .orIgnore()
        .updateEntity(false)
        .execute();
      // Ours only if the row holding this grant has our id (an existing or concurrently inserted one has another).
      const holder = await tx.findOne(PermissionGrantEntity, { select: { id: true }, where: keyOf(input) });
      if (holder?.id !== id) return false;
      await this.recordChange(tx, input, 'granted', actor);
      return true;
    });
    if (granted) await this.dropCachedGrants(input);
    return granted;
  }

  /** Revokes `input`; resolves false when the subject did not hold exactly this grant. */
  async revoke(input: PermissionInput, actor: string): Promise<boolean> {
    this.checkSubject(input);
    const revoked = await this.unitOfWork.run(async (tx) => {
      const result = await tx.delete(PermissionGrantEntity, keyOf(input));
      if ((result.affected ?? 0) === 0) return false;
      await this.recordChange(tx, input, 'revoked', actor);
      return true;
    });
    if (revoked) await this.dropCachedGrants(input);
    return revoked;
  }

  /** A deleted user's grants go with them, once per event across instances; a redelivery finds nothing left. */
  @OnEvent('user.deleted', { group: 'permissions.drop-grants-of-deleted-user' })
  async dropGrantsOfDeletedUser(event: EnvelopeFor<'user.deleted'>): Promise<void> {
    const subject: PermissionSubject = { type: SubjectType.USER, id: event.data.userId };
    const dropped = await this.unitOfWork.run(async (tx) => {
      const result = await tx.delete(PermissionGrantEntity, { subjectType: subject.type, subject: subject.id });
      if ((result.affected ?? 0) === 0) return false;
      await this.outbox.record(tx, PermissionEvents.INVALIDATE, {
        pattern: subjectInvalidationPattern(subject),
        change: 'user-deleted',
        changedBy: event.data.deletedBy ?? SYSTEM_ACTOR,
      });
      return true;
    });
    if (dropped) await this.grants.dropCached(subjectInvalidationPattern(subject));
  }

  /** After the commit of a change to the grants of `input`'s subject (never inside the transaction). */
  private dropCachedGrants(input: PermissionInput): Promise<void> {
    return this.grants.dropCached(subjectInvalidationPattern({ type: input.subjectType, id: input.subject }));
  }

  private async recordChange(tx: EntityManager, input: PermissionInput, change: PermissionChange, actor: string): Promise<void> {
    const subject: PermissionSubject = { type: input.subjectType, id: input.subject };
    await this.outbox.record(tx, PermissionEvents.INVALIDATE, {
      ...(input.subjectType === SubjectType.APP ? { appName: input.subject } : {}),
      pattern: subjectInvalidationPattern(subject),
      change,
      grant: keyOf(input),
      changedBy: actor,
    });
  }

  private checkSubject(input: PermissionInput): void {
    const valid = input.subjectType === SubjectType.USER ? UUID.test(input.subject) : APP_NAME.test(input.subject);
    if (valid) return;
    const reason = input.subjectType === SubjectType.USER ? 'must be a user id (a UUID)' : 'must be an app name such as de.easy-m.todos';
    throw new BadUserInputError(`Invalid input: input.subject: ${reason}`, [{ field: 'input.subject', reason }]);
  }
}

function keyOf(input: PermissionInput) {
  return { subjectType: input.subjectType, subject: input.subject, action: input.action, resource: input.resource };
}
