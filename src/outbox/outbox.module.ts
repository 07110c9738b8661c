import { DynamicModule, Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Outbox } from './outbox';
import { OutboxMessage } from './outbox-message.entity';
import { OutboxMessageRepository } from './outbox-message.repository';
import { OUTBOX_MODULE_OPTIONS, OutboxModuleOptions, resolveOutboxOptions } from './outbox-module.options';
import { OutboxRelay } from './outbox-relay';

/**
 * The transactional outbox, app-wide: `Outbox` for domain services and the
 * `OutboxRelay` that publishes. Needs DatabaseModule and EventBusModule; import
 * it after EventBusModule so that on shutdown the relay finishes its batch
 * before the bus closes (Nest destroys global modules in reverse import order).
 */
@Global()
@Module({})
export class OutboxModule {
  static forRoot(options: OutboxModuleOptions = {}): DynamicModule {
    return {
      module: OutboxModule,
      imports: [TypeOrmModule.forFeature([OutboxMessage])],
      providers: [{ provide: OUTBOX_MODULE_OPTIONS, useValue: resolveOutboxOptions(options) }, OutboxMessageRepository, OutboxRelay, Outbox],
      exports: [Outbox, OutboxRelay],
    };
  }
}
