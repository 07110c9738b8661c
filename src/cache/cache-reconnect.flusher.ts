import { Injectable, Logger, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { EventBus } from '../event-bus/event-bus';
import { CacheService } from './cache.service';

/**
 * Empties every namespace's L1 whenever the bus connection comes back.
 *
 * Other instances' changes reach this one's L1 only as broadcast events
 * (settings.updated, app.*, …). While the connection was down some may not
 * have arrived — a broadcast queue that expired, a message lost with the
 * channel — and nothing would ever drop the entries they were meant to drop
 * but their L1 TTL. L2 needs nothing: writers invalidate it themselves before
 * their mutation returns, and the cache retires L2 entries itself after a
 * Redis outage. So after a reconnect L1 is refilled from L2 and the database.
 */
@Injectable()
export class CacheReconnectFlusher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Cache');
  private stopListening: (() => void) | undefined;
  private flushes = 0;

  constructor(
    private readonly bus: EventBus,
    private readonly cache: CacheService,
  ) {}

  /** L1 flushes since boot because the bus reconnected (reported on GET /health). */
  get l1FlushesAfterReconnect(): number {
    return this.flushes;
  }

  onApplicationBootstrap(): void {
    this.stopListening = this.bus.onReconnect(() => this.flushL1AfterReconnect());
  }

  onApplicationShutdown(): void {
    this.stopListening?.();
    this.stopListening = undefined;
  }

  /** Runs in the bus's reconnect listener: synchronous, and never throws into the transport. */
  flushL1AfterReconnect(): void {
    try {
      this.cache.flushL1();
      this.flushes++;
      this.logger.log('The event bus reconnected: emptied L1, since invalidation events may have been missed');
    } catch (error) {
      this.logger.error(`Could not empty L1 after a bus reconnect: ${(error as Error).message}`);
    }
  }
}

/** The flusher, for AppModule (and HealthModule, which reports its count). Needs the global EventBus and CacheService. */
@Module({ providers: [CacheReconnectFlusher], exports: [CacheReconnectFlusher] })
export class CacheReconnectModule {}
