import { Module } from '@nestjs/common';
import { CacheReconnectModule } from '../cache/cache-reconnect.flusher';
import { HealthController } from './health.controller';

@Module({ imports: [CacheReconnectModule], controllers: [HealthController] })
export class HealthModule {}
