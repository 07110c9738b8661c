import { backoffDelay } from './retry-policy';

const lowest = () => 0;
const highest = () => 1;
const middle = () => 0.5;

describe('backoffDelay', () => {
  describe('the step (random = 0, no jitter added)', () => {
    it.each([
      [1, 1000],
      [2, 2000],
      [3, 4000],
      [4, 8000],
      [5, 16_000],
    ])('attempt %d waits exactly the step of %d ms', (attempt, expected) => {
      expect(backoffDelay(attempt, 1000, 60_000, lowest)).toBe(expected);
    });

    it('waits the configured initial delay on the first attempt', () => {
      expect(backoffDelay(1, 750, 60_000, lowest)).toBe(750);
    });

    it('doubles the delay from one attempt to the next', () => {
      const delays = [1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(attempt, 250, 1_000_000, lowest));
      for (let i = 1; i < delays.length; i++) expect(delays[i]).toBe(delays[i - 1] * 2);
    });

    it('treats attempt 0 (and below) like the first attempt', () => {
      expect(backoffDelay(0, 1000, 60_000, lowest)).toBe(1000);
      expect(backoffDelay(-3, 1000, 60_000, lowest)).toBe(1000);
      expect(backoffDelay(0, 1000, 60_000, highest)).toBe(1500);
      expect(backoffDelay(-3, 1000, 60_000, highest)).toBe(1500);
    });
  });

  describe('jitter on top of the step', () => {
    it.each([
      [1, 1500],
      [2, 3000],
      [3, 6000],
      [4, 12_000],
      [5, 24_000],
    ])('attempt %d waits one and a half steps, %d ms, for random = 1', (attempt, expected) => {
      expect(backoffDelay(attempt, 1000, 60_000, highest)).toBe(expected);
    });

    it('adds a quarter step for random = 0.5', () => {
      expect(backoffDelay(1, 1000, 60_000, middle)).toBe(1250);
      expect(backoffDelay(2, 1000, 60_000, middle)).toBe(2500);
    });

    it('grows with the random value', () => {
      const values = [0, 0.25, 0.5, 0.75, 1].map((r) => backoffDelay(2, 1000, 60_000, () => r));
      expect(values).toEqual([2000, 2250, 2500, 2750, 3000]);
    });

    it('never waits less than the step', () => {
      for (let attempt = 1; attempt <= 12; attempt++) {
        const step = 100 * 2 ** (attempt - 1);
        expect(backoffDelay(attempt, 100, 1_000_000, lowest)).toBe(step);
      }
    });

    it('stays within [step, min(maxDelayMs, 1.5 * step)] for many random values', () => {
      for (let attempt = 1; attempt <= 12; attempt++) {
        const step = Math.min(30_000, 100 * 2 ** (attempt - 1));
        for (let i = 0; i <= 20; i++) {
          const r = i / 20;
          const wait = backoffDelay(attempt, 100, 30_000, () => r);
          expect(wait).toBeGreaterThanOrEqual(step);
          expect(wait).toBeLessThanOrEqual(Math.min(30_000, 1.5 * step));
          expect(Number.isInteger(wait)).toBe(true);
        }
      }
    });

    it('calls the random function once per delay', () => {
      const random = jest.fn(() => 0.5);
      backoffDelay(3, 1000, 60_000, random);
      expect(random).toHaveBeenCalledTimes(1);
    });

    it('uses Math.random by default', () => {
      const spy = jest.spyOn(Math, 'random').mockReturnValue(0);
      try {
        expect(backoffDelay(1, 1000, 60_000)).toBe(1000);
        expect(spy).toHaveBeenCalled();
      } finally {
        spy.mockRestore();
      }
    });
  });

  describe('the cap', () => {
    it('never exceeds maxDelayMs, even with the jitter added', () => {
      expect(backoffDelay(5, 1000, 5000, highest)).toBe(5000);
      expect(backoffDelay(6, 1000, 5000, highest)).toBe(5000);
    });

    it('clips the jitter of a step just below the cap', () => {
      // step 4000: 4000..6000 before the cap, so the upper part lands on 5000.
      expect(backoffDelay(3, 1000, 5000, lowest)).toBe(4000);
      expect(backoffDelay(3, 1000, 5000, () => 0.25)).toBe(4500);
      expect(backoffDelay(3, 1000, 5000, middle)).toBe(5000);
      expect(backoffDelay(3, 1000, 5000, highest)).toBe(5000);
    });

    it('waits exactly maxDelayMs once the step reaches the cap, whatever the random value', () => {
      for (const r of [0, 0.25, 0.5, 0.75, 1]) expect(backoffDelay(10, 1000, 5000, () => r)).toBe(5000);
    });

    it('stays at the cap for very large attempts without overflowing to Infinity or NaN', () => {
      expect(backoffDelay(2000, 1000, 5000, highest)).toBe(5000);
      expect(backoffDelay(2000, 1000, 5000, lowest)).toBe(5000);
    });

    it('caps the first attempt when the initial delay is above the cap', () => {
      expect(backoffDelay(1, 10_000, 3000, lowest)).toBe(3000);
      expect(backoffDelay(1, 10_000, 3000, highest)).toBe(3000);
    });
  });

  describe('rounding and the floor', () => {
    it('returns whole milliseconds', () => {
      expect(backoffDelay(1, 333, 60_000, () => 0.3)).toBe(383);
      expect(Number.isInteger(backoffDelay(1, 333, 60_000, () => 0.3))).toBe(true);
    });

    it('never returns less than 1 ms, even for a zero initial delay', () => {
      expect(backoffDelay(1, 0, 60_000, lowest)).toBe(1);
      expect(backoffDelay(1, 0, 60_000, highest)).toBe(1);
      expect(backoffDelay(1, 1, 60_000, lowest)).toBe(1);
    });
  });
});
