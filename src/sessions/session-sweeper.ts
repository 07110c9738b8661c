import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { IsNull, LessThanOrEqual } from 'typeorm';
import { SYSTEM_ACTOR } from '../common/principal';
import { UnitOfWork } from '../database/unit-of-work';
import { Outbox } from '../outbox/outbox';
import { SessionCache } from './session-cache';
import { SessionEntity } from './session.entity';
import { SessionEvents } from './session.events';
import { ResolvedSessionsOptions, SESSIONS_MODULE_OPTIONS } from './sessions-module.options';

/** Sessions ended per transaction; more wait for the next batch. */
const BATCH = 100;

/**
 * Ends expired sessions and publishes `session.expired` for each. Runs on
 * every instance; the conditional update lets exactly one of them end (and
 * announce) a given session. An expired token is refused on its next request
 * anyway (the authenticator checks the expiry); the sweeper is what tells the
 * rest of the system.
 */
@Injectable()
export class SessionSweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(SessionSweeper.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private stopped = false;

  constructor(
    private readonly unitOfWork: UnitOfWork,
    private readonly outbox: Outbox,
    private readonly cache: SessionCache,
    @Inject(SESSIONS_MODULE_OPTIONS) private readonly options: ResolvedSessionsOptions,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule();
  }

  /** Before the database closes: no new sweep, and the one running finishes. */
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** Ends every session that has expired by now; resolves with how many this instance ended. */
  sweepExpired(): Promise<number> {
    this.running ??= this.sweepAll().finally(() => (this.running = undefined));
    return this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.sweepExpired()
        .catch((error: Error) => this.logger.warn(`Sweeping expired sessions failed: ${error.message}`))
        .finally(() => this.schedule());
    }, this.options.sweepIntervalMs);
    // Never the reason the process stays up.
    this.timer.unref();
  }

  private async sweepAll(): Promise<number> {
    let total = 0;
    for (;;) {
      const { candidates, ended } = await this.sweepBatch(new Date());
      total += ended;
      if (candidates < BATCH || this.stopped) return total;
    }
  }

  private async sweepBatch(now: Date): Promise<{ candidates: number; ended: number }> {
    const { candidates, ended } = await this.unitOfWork.run(async (tx) => {
      const expired = await tx.find(SessionEntity, {
        select: { id: true, userId: true },
        where: { endedAt: IsNull(), expiresAt: LessThanOrEqual(now) },
        order: { expiresAt: 'ASC' },
        take: BATCH,
      });
      const ended: Array<{ id: string; userId: string }> = [];
      for (const { id, userId } of expired) {
        const result = await tx
          .createQueryBuilder()
          .update(SessionEntity)
          .set({ endedAt: now, endReason: 'expired', endedBy: SYSTEM_ACTOR })
          .where('id = :id AND ended_at IS NULL', { id })
          .execute();
        if ((result.affected ?? 0) === 0) continue;
        await this.outbox.record(tx, SessionEvents.EXPIRED, { sessionId: id, userId });
        ended.push({ id, userId });
      }
      return { candidates: expired.length, ended };
    });
    // Committed. Cached states expire with their sessions anyway (SessionCache.state); dropped all the same, as by every other end of a session.
    await Promise.all(ended.map(({ id, userId }) => this.cache.dropSession(userId, id)));
    return { candidates, ended: ended.length };
  }
}
