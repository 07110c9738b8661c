export * from './app-server.config';
export * from './config.module';
export * from './load-config';
