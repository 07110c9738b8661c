export * from './outbox';
export * from './outbox-message.entity';
export * from './outbox-module.options';
export * from './outbox-relay';
export * from './outbox.module';
