import { Controller, Get, HttpCode, HttpStatus, Res } from '@nestjs/common';
import type { Response } from 'express';
import { EventBus, EventBusHealth } from '../event-bus/event-bus';

export interface HealthReport {
  status: 'ok' | 'degraded';
  bus: EventBusHealth;
}

/**
 * GET /health for load balancers and orchestrators: 200 while the bus is
 * consuming (not merely connected), 503 otherwise.
 */
@Controller('health')
export class HealthController {
  constructor(private readonly bus: EventBus) {}

  @Get()
  @HttpCode(HttpStatus.OK)
  check(@Res({ passthrough: true }) response: Response): HealthReport {
    const bus = this.bus.health();
    const status = bus.consuming ? 'ok' : 'degraded';
    if (status !== 'ok') response.status(HttpStatus.SERVICE_UNAVAILABLE);
    return { status, bus };
  }
}
