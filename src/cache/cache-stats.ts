/** Counters of one namespace since the process started. */
export interface CacheNamespaceStats {
  /** Reads answered by the in-process level. */
  l1Hits: number;
  l1Misses: number;
  /** Reads answered by Redis (after an L1 miss). */
  l2Hits: number;
  /** Reads Redis answered without a live entry (absent, expired or invalidated). */
  l2Misses: number;
  /** Loader calls (one per single-flight, however many callers waited on it). */
  loads: number;
  /** Loader calls that rejected; their error went to every waiter and nothing was cached. */
  loadErrors: number;
  /** Committed changes stored in Redis by their writer (write-through), for other instances to read. */
  l2WritesThrough: number;
  /**
   * Write-throughs that found the key changed in Redis since their ticket (a concurrent change, a
   * load, or the change's own event got there first) and invalidated it instead: the next read loads.
   */
  l2WritesThroughRefused: number;
  /** Redis operations that failed or were skipped because Redis was unreachable; callers saw no error. */
  redisErrors: number;
  /** Entries currently held in L1. */
  l1Entries: number;
}

export function emptyStats(): CacheNamespaceStats {
  return {
    l1Hits: 0,
    l1Misses: 0,
    l2Hits: 0,
    l2Misses: 0,
    loads: 0,
    loadErrors: 0,
    l2WritesThrough: 0,
    l2WritesThroughRefused: 0,
    redisErrors: 0,
    l1Entries: 0,
  };
}
