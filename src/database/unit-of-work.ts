import { Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Semaphore } from '../event-bus/concurrency';
import { DatabaseKind, databaseKindOf } from './database-kind';

/**
 * The one way to change state: `run` executes `work` in one transaction,
 * commits if it resolves and rolls back if it throws. Pass `tx` to every
 * repository and to `Outbox.record`, so state rows and event rows commit together.
 *
 * On the embedded database TypeORM shares one connection between all callers,
 * so two open transactions would interleave on it (a second BEGIN becomes a
 * savepoint of the first, and a rollback of one discards what the other
 * committed). There, transactions and reads take turns through one lock. On
 * PostgreSQL each transaction has its own pooled connection and nothing is serialized.
 *
 * Do not call `run` or `read` from inside `work`: on the embedded database that
 * waits for itself. Pass `tx` down instead.
 */
@Injectable()
export class UnitOfWork {
  readonly kind: DatabaseKind;
  private readonly logger = new Logger(UnitOfWork.name);
  /** One connection, one user at a time (embedded only). */
  private readonly turns?: Semaphore;
  /** Callbacks of each open transaction, to run once it has committed. */
  private readonly commitCallbacks = new WeakMap<EntityManager, Array<() => void>>();

  constructor(private readonly dataSource: DataSource) {
    this.kind = databaseKindOf(dataSource);
    if (this.kind === 'embedded') this.turns = new Semaphore(1);
  }

  /** Runs `work` in one transaction; resolves with its result after the commit. */
  async run<R>(work: (tx: EntityManager) => Promise<R>): Promise<R> {
    const callbacks: Array<() => void> = [];
    const result = await this.inTurn(() =>
      this.dataSource.transaction(async (tx) => {
        this.commitCallbacks.set(tx, callbacks);
        try {
          return await work(tx);
        } finally {
          // The embedded database hands the same manager to the next transaction: forget this one's callbacks now.
          this.commitCallbacks.delete(tx);
        }
      }),
    );
    for (const callback of callbacks) {
      try {
        callback();
      } catch (error) {
        // The transaction has committed; a failing follower must not turn that into an error for the caller.
        this.logger.error(`An after-commit callback failed: ${(error as Error).message}`, (error as Error).stack);
      }
    }
    return result;
  }

  /** Runs read-only `work` outside a transaction; on the embedded database it waits for open transactions to finish. */
  read<R>(work: (manager: EntityManager) => Promise<R>): Promise<R> {
    return this.inTurn(() => work(this.dataSource.manager));
  }

  /**
   * Runs `callback` once the transaction of `tx` has committed (never if it
   * rolls back), after the lock is released. For effects that must only follow
   * a durable change: waking the outbox relay, dropping cache entries.
   */
  afterCommit(tx: EntityManager, callback: () => void): void {
    const callbacks = this.commitCallbacks.get(tx);
    if (!callbacks) {
      throw new Error('afterCommit needs the EntityManager of an open UnitOfWork.run transaction (the `tx` passed to the work function)');
    }
    callbacks.push(callback);
  }

  private inTurn<R>(task: () => Promise<R>): Promise<R> {
    return this.turns ? this.turns.run(task) : task();
  }
}
