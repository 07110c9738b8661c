/** Every cache namespace, one per domain whose reads go through the cache. */
export const CACHE_NAMESPACES = ['settings', 'permissions', 'apps', 'sessions', 'users'] as const;

export type CacheNamespace = (typeof CACHE_NAMESPACES)[number];

/**
 * What a namespace can hold: anything but `null` and `undefined`. `null` is
 * reserved for "not found" (negative caching, see NamespacedCache.getOrLoad)
 * and `undefined` for "not cached".
 *
 * Values go through JSON on their way to Redis, so they must survive
 * `JSON.parse(JSON.stringify(value))` unchanged: plain objects, arrays,
 * strings, numbers and booleans; dates as ISO strings, no class instances.
 */
export type CacheValue = object | string | number | boolean;
