import { Controller, Get, HttpCode, HttpStatus, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { CacheReconnectFlusher } from '../cache/cache-reconnect.flusher';
import { CacheMetrics, CacheService } from '../cache/cache.service';
import { EventBus, EventBusHealth } from '../event-bus/event-bus';

export interface CacheHealth extends CacheMetrics {
  /** Redis operations that failed or were skipped, all namespaces together; clients saw no error for any of them. */
  readonly redisErrors: number;
  /** Times L1 was emptied because the bus reconnected (events may have been missed meanwhile). */
  readonly l1FlushesAfterReconnect: number;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  bus: EventBusHealth;
  cache: CacheHealth;
}

/**
 * GET /health for load balancers and orchestrators: 200 while the bus is
 * consuming (not merely connected), 503 otherwise. The cache is reported but
 * does not decide the status: without Redis an instance still answers
 * correctly, from L1 and the database.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly bus: EventBus,
    private readonly cache: CacheService,
    private readonly flusher: CacheReconnectFlusher,
  ) {}

  @Get()
  @HttpCode(HttpStatus.OK)
  check(@Res({ passthrough: true }) reply: FastifyReply): HealthReport {
    const bus = this.bus.health();
    const status = bus.consuming ? 'ok' : 'degraded';
    if (status !== 'ok') reply.status(HttpStatus.SERVICE_UNAVAILABLE);
    return { status, bus, cache: this.cacheHealth() };
  }

  private cacheHealth(): CacheHealth {
    const metrics = this.cache.metrics();
    const redisErrors = Object.values(metrics.namespaces).reduce((sum, stats) => sum + stats.redisErrors, 0);
    return { l2: metrics.l2, redisErrors, l1FlushesAfterReconnect: this.flusher.l1FlushesAfterReconnect, namespaces: metrics.namespaces };
  }
}
