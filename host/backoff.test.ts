import { describe, expect, it } from 'vitest';
import { BACKOFF_BASE_MS, BACKOFF_MAX_MS, nextDelay } from './backoff.ts';

/** The largest delay allowed for an attempt: doubling from the base, capped at 30 s. */
const ceilingOf = (attempt: number) => Math.min(30_000, BACKOFF_BASE_MS * 2 ** attempt);

describe('nextDelay', () => {
  it('starts at a few hundred milliseconds and caps at 30 s', () => {
    expect(BACKOFF_MAX_MS).toBe(30_000);
    expect(nextDelay(0, () => 0.999)).toBeLessThanOrEqual(250);
    expect(nextDelay(0, () => 0)).toBeGreaterThanOrEqual(125);
    for (const attempt of [8, 9, 10, 20, 21, 50, 1000, Number.MAX_SAFE_INTEGER]) {
      const low = nextDelay(attempt, () => 0);
      const high = nextDelay(attempt, () => 0.999999);
      expect(high).toBeLessThanOrEqual(30_000);
      expect(high).toBeGreaterThan(29_000);
      expect(low).toBe(15_000);
    }
  });

  it('grows with each attempt until the cap, for the same jitter', () => {
    for (const r of [0, 0.5, 0.999]) {
      const delays = Array.from({ length: 12 }, (_, attempt) => nextDelay(attempt, () => r));
      for (let i = 1; i < delays.length; i++) {
        if (ceilingOf(i) < 30_000) expect(delays[i]).toBeGreaterThan(delays[i - 1]!);
        else expect(delays[i]).toBeGreaterThanOrEqual(delays[i - 1]!);
      }
      expect(delays.at(-1)).toBe(nextDelay(100, () => r));
    }
  });

  it('stays within [ceiling/2, ceiling] for every attempt, with real randomness', () => {
    for (let attempt = 0; attempt <= 40; attempt++) {
      const ceiling = ceilingOf(attempt);
      for (let i = 0; i < 200; i++) {
        const delay = nextDelay(attempt);
        expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
    }
  });

  it('jitters: the same attempt gives different delays', () => {
    const delays = new Set(Array.from({ length: 50 }, () => nextDelay(6)));
    expect(delays.size).toBeGreaterThan(10);
  });

  it('spreads the delay linearly over the upper half of the ceiling', () => {
    expect(nextDelay(3, () => 0)).toBe(1000);
    expect(nextDelay(3, () => 0.5)).toBe(1500);
    expect(nextDelay(3, () => 0.75)).toBe(1750);
  });
});
