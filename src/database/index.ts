export * from './column-transformers';
export * from './database-kind';
export * from './database-module.options';
export * from './database.module';
export * from './unit-of-work';
export { columnTypesFor } from './migrations/column-types';
export type { ColumnTypes } from './migrations/column-types';
export { MIGRATIONS } from './migrations';
