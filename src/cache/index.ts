export * from './cache-namespace';
export * from './cache-stats';
export * from './cache.module';
export * from './cache.options';
export { CacheService } from './cache.service';
export type { CacheMetrics } from './cache.service';
export { NamespacedCache } from './namespaced-cache';
export type { CacheEntryOptions, GetOrLoadOptions } from './namespaced-cache';
