import { describe, expect, it } from 'vitest';
import { isQuickDeath, MAX_RETRY_MS, retryDelayMs } from './backoff.js';

describe('crash-loop backoff', () => {
  it('doubles from 5 s with each failure in a row and stops at 10 min', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 50, 5000].map((n) => retryDelayMs(n) / 1000)).toEqual([5, 10, 20, 40, 80, 160, 320, 600, 600, 600, 600]);
    expect(retryDelayMs(1_000_000)).toBe(MAX_RETRY_MS);
  });

  it('judges a death by when it happened after its launch, not by when the retry comes', () => {
    expect(isQuickDeath(1000, 1000 + 14_999)).toBe(true);
    expect(isQuickDeath(1000, 1000 + 15_000)).toBe(false);
    expect(isQuickDeath(0, 500, 400)).toBe(false);
  });
});
