import { Injectable } from '@nestjs/common';
import { CacheService } from '../cache/cache.service';
import { NamespacedCache } from '../cache/namespaced-cache';
import { DatabaseGrantLoader } from './database-grant.loader';
import { Grant, GrantLoader } from './grant-loader';
import { grantsCacheKey } from './permission-cache-keys';
import { PermissionSubject } from './subject-type';

/**
 * The GrantLoader the PermissionChecker uses: a subject's grants through the
 * `permissions` cache namespace, under `grantsCacheKey(subject)`
 * (`user:<id>:grants`, `app:<name>:grants`), loaded by DatabaseGrantLoader on
 * a miss of both levels. A subject without grants is cached as an empty list
 * (not as "not found"), for the namespace's full TTL like any other answer.
 *
 * Caching whole grant lists per subject, rather than each (action, resource)
 * answer, keeps the number of entries at one per subject and lets a single
 * pattern (`user:<id>:*`) drop everything about a subject.
 *
 * Who drops what:
 * - every change of grants or of what a role implies records
 *   `permission.invalidate` with the subject's pattern in its transaction, and
 *   drops that pattern itself after the commit, before answering
 *   (PermissionsService, UsersService): the writer's next request sees it;
 * - every instance drops the pattern on `permission.invalidate`, L1 and Redis
 *   (PermissionsCacheInvalidator).
 */
@Injectable()
export class CachingGrantLoader extends GrantLoader {
  private readonly cache: NamespacedCache<Grant[]>;

  constructor(
    private readonly database: DatabaseGrantLoader,
    cache: CacheService,
  ) {
    super();
    this.cache = cache.namespace<Grant[]>('permissions');
  }

  /** The cached list is shared by every reader of this instance's L1: read-only. */
  async loadGrants(subject: PermissionSubject): Promise<readonly Grant[]> {
    return this.grantsOf(subject);
  }

  /** As `loadGrants`, but the list itself, not a promise, when it is in L1. */
  override grantsOf(subject: PermissionSubject): readonly Grant[] | Promise<readonly Grant[]> {
    const grants = this.cache.getOrLoadNow(grantsCacheKey(subject), () => this.loadFromDatabase(subject));
    return grants instanceof Promise ? grants.then(orNone) : orNone(grants);
  }

  private async loadFromDatabase(subject: PermissionSubject): Promise<Grant[]> {
    return [...(await this.database.loadGrants(subject))];
  }

  /**
   * Drops every entry matching `pattern` (as `permission.invalidate` carries
   * it, e.g. `user:<id>:*`) from this instance's L1 and from Redis. Call it
   * after the commit of a change, never inside the transaction. Never fails
   * (see NamespacedCache).
   */
  dropCached(pattern: string): Promise<void> {
    return this.cache.invalidatePattern(pattern);
  }
}

function orNone(grants: Grant[] | null): readonly Grant[] {
  return grants ?? [];
}
