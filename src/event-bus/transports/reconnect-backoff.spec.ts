import { ReconnectBackoff } from './reconnect-backoff';

/** Successive delays of a fresh backoff with a fixed random value. */
function delays(count: number, random: number, backoff = new ReconnectBackoff(undefined, undefined, () => random)): number[] {
  return Array.from({ length: count }, () => backoff.next());
}

describe('ReconnectBackoff', () => {
  describe('the default schedule (500 ms doubling to a 30 s cap)', () => {
    it('starts at 500 ms and doubles on each failure (random = 1)', () => {
      expect(delays(7, 1)).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000]);
    });

    it('stays at 30 s once capped', () => {
      expect(delays(12, 1).slice(6)).toEqual([30_000, 30_000, 30_000, 30_000, 30_000, 30_000]);
    });

    it('never exceeds 30 s after very many failures', () => {
      const backoff = new ReconnectBackoff(undefined, undefined, () => 1);
      let last = 0;
      for (let i = 0; i < 2000; i++) last = backoff.next();
      expect(last).toBe(30_000);
    });
  });

  describe('jitter', () => {
    it('drops to half the step for random = 0, but never below 500 ms', () => {
      expect(delays(8, 0)).toEqual([500, 500, 1000, 2000, 4000, 8000, 15_000, 15_000]);
    });

    it('waits exactly 500 ms before the first attempt, whatever the random value', () => {
      for (let i = 0; i <= 10; i++) expect(delays(1, i / 10)).toEqual([500]);
    });

    it('keeps every delay within [max(500 ms, step/2), step], and so within [500 ms, 30 s]', () => {
      for (let i = 0; i <= 10; i++) {
        const r = i / 10;
        delays(20, r).forEach((wait, failures) => {
          const step = Math.min(30_000, 500 * 2 ** failures);
          expect(wait).toBeGreaterThanOrEqual(Math.max(500, step / 2));
          expect(wait).toBeLessThanOrEqual(step);
          expect(wait).toBeGreaterThanOrEqual(500);
          expect(wait).toBeLessThanOrEqual(30_000);
          expect(Number.isInteger(wait)).toBe(true);
        });
      }
    });

    it('spreads the later delays over the upper half of the step', () => {
      expect([0, 0.5, 1].map((r) => delays(3, r)[2])).toEqual([1000, 1500, 2000]);
      expect([0, 0.5, 1].map((r) => delays(10, r)[9])).toEqual([15_000, 22_500, 30_000]);
    });

    it('draws a fresh random value for each delay', () => {
      const values = [0, 1, 0.5];
      const backoff = new ReconnectBackoff(undefined, undefined, () => values.shift()!);
      expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([500, 1000, 1500]);
      expect(values).toEqual([]);
    });

    it('uses Math.random by default', () => {
      const spy = jest.spyOn(Math, 'random').mockReturnValue(0);
      try {
        expect(new ReconnectBackoff().next()).toBe(500);
        expect(spy).toHaveBeenCalledTimes(1);
      } finally {
        spy.mockRestore();
      }
    });
  });

  describe('reset()', () => {
    it('starts the schedule over after a successful connection', () => {
      const backoff = new ReconnectBackoff(undefined, undefined, () => 1);
      expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([500, 1000, 2000]);
      backoff.reset();
      expect([backoff.next(), backoff.next()]).toEqual([500, 1000]);
    });

    it('is harmless on a fresh backoff', () => {
      const backoff = new ReconnectBackoff(undefined, undefined, () => 1);
      backoff.reset();
      expect(backoff.next()).toBe(500);
    });
  });

  describe('custom bounds', () => {
    it('honours a different minimum and maximum', () => {
      const backoff = new ReconnectBackoff(100, 350, () => 1);
      expect([backoff.next(), backoff.next(), backoff.next(), backoff.next()]).toEqual([100, 200, 350, 350]);
    });

    it('uses the custom minimum as the floor', () => {
      const backoff = new ReconnectBackoff(100, 350, () => 0);
      expect([backoff.next(), backoff.next(), backoff.next(), backoff.next()]).toEqual([100, 100, 175, 175]);
    });
  });
});
