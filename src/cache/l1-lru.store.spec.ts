import { L1LruStore } from './l1-lru.store';

/** A clock the test moves by hand. */
function manualClock(start = 1_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

describe('L1LruStore', () => {
  describe('the bound', () => {
    it('never holds more than maxEntries', () => {
      const store = new L1LruStore<number>(3, manualClock().now);
      for (let i = 0; i < 10; i++) store.set(`k${i}`, i, 60_000);
      expect(store.size).toBe(3);
      expect(store.keys()).toEqual(['k7', 'k8', 'k9']);
    });

    it('evicts the least recently used entry, a read counting as a use', () => {
      const store = new L1LruStore<number>(3, manualClock().now);
      store.set('a', 1, 60_000);
      store.set('b', 2, 60_000);
      store.set('c', 3, 60_000);
      expect(store.get('a')).toBe(1);
      store.set('d', 4, 60_000);
      expect(store.get('b')).toBeUndefined();
      expect(store.keys()).toEqual(['c', 'a', 'd']);
    });

    it('counts overwriting a key as a use, not as a new entry', () => {
      const store = new L1LruStore<number>(2, manualClock().now);
      store.set('a', 1, 60_000);
      store.set('b', 2, 60_000);
      store.set('a', 10, 60_000);
      store.set('c', 3, 60_000);
      expect(store.keys()).toEqual(['a', 'c']);
      expect(store.get('a')).toBe(10);
    });

    it('stores nothing with maxEntries 0 (L1 off)', () => {
      const store = new L1LruStore<number>(0, manualClock().now);
      store.set('a', 1, 60_000);
      expect(store.get('a')).toBeUndefined();
      expect(store.size).toBe(0);
    });
  });

  describe('TTL', () => {
    it('serves an entry until its TTL has passed, then forgets it', () => {
      const clock = manualClock();
      const store = new L1LruStore<string>(10, clock.now);
      store.set('a', 'x', 1_000);
      clock.advance(999);
      expect(store.get('a')).toBe('x');
      clock.advance(1);
      expect(store.get('a')).toBeUndefined();
      expect(store.size).toBe(0);
    });

    it('does not extend the TTL on a read', () => {
      const clock = manualClock();
      const store = new L1LruStore<string>(10, clock.now);
      store.set('a', 'x', 1_000);
      clock.advance(600);
      expect(store.get('a')).toBe('x');
      clock.advance(600);
      expect(store.get('a')).toBeUndefined();
    });

    it('gives each entry its own TTL', () => {
      const clock = manualClock();
      const store = new L1LruStore<string>(10, clock.now);
      store.set('short', 's', 100);
      store.set('long', 'l', 10_000);
      clock.advance(500);
      expect(store.get('short')).toBeUndefined();
      expect(store.get('long')).toBe('l');
    });

    it('does not store an entry with a TTL of 0 and drops the value it replaces', () => {
      const store = new L1LruStore<string>(10, manualClock().now);
      store.set('a', 'old', 1_000);
      store.set('a', 'new', 0);
      expect(store.get('a')).toBeUndefined();
    });
  });

  describe('removal', () => {
    it('deletes one key, keys matching a predicate, or everything', () => {
      const store = new L1LruStore<number>(10, manualClock().now);
      for (const key of ['user:1:a', 'user:1:b', 'user:2:a', 'app:x']) store.set(key, 1, 60_000);
      store.delete('app:x');
      expect(store.keys()).toEqual(['user:1:a', 'user:1:b', 'user:2:a']);
      store.deleteWhere((key) => key.startsWith('user:1:'));
      expect(store.keys()).toEqual(['user:2:a']);
      store.clear();
      expect(store.size).toBe(0);
    });
  });

  it('agrees with a reference LRU over a long run of random reads, writes, deletions and expiries', () => {
    // The reference: a Map kept in recency order by re-inserting on every use (simple, obviously right, slower).
    const clock = manualClock();
    const reference = new Map<string, { value: number; expiresAt: number }>();
    const store = new L1LruStore<number>(8, clock.now);
    let seed = 42;
    const random = (n: number) => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % n);
    for (let step = 0; step < 20_000; step++) {
      const key = `k${random(12)}`;
      const operation = random(10);
      if (operation < 5) {
        const entry = reference.get(key);
        reference.delete(key);
        const live = entry !== undefined && entry.expiresAt > clock.now();
        if (live) reference.set(key, entry);
        expect(store.get(key)).toBe(live ? entry.value : undefined);
      } else if (operation < 8) {
        const ttl = random(4) === 0 ? 0 : 1 + random(50);
        reference.delete(key);
        if (ttl > 0) reference.set(key, { value: step, expiresAt: clock.now() + ttl });
        while (reference.size > 8) reference.delete(reference.keys().next().value!);
        store.set(key, step, ttl);
      } else if (operation < 9) {
        reference.delete(key);
        store.delete(key);
      } else {
        clock.advance(random(5));
      }
      expect(store.keys()).toEqual([...reference.keys()]);
    }
  });

  it('keeps no state outside the instance', () => {
    const clock = manualClock();
    const one = new L1LruStore<number>(10, clock.now);
    const two = new L1LruStore<number>(10, clock.now);
    one.set('a', 1, 60_000);
    expect(two.get('a')).toBeUndefined();
  });
});
