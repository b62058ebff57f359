import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  decide,
  startsNewStreak,
  type CrashLoopSettings,
} from '../../src/recovery/backoff.js';

const s: CrashLoopSettings = {
  maxRestarts: 5,
  windowMs: 120_000,
  backoffMs: 1000,
  backoffMaxMs: 30_000,
  resetMs: 60_000,
  settleMs: 5000,
};

describe('crash-loop backoff', () => {
  it.each([
    [0, 0],
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [4, 8000],
    [5, 16_000],
    [6, 30_000],
    [60, 30_000],
  ])('after %i restarts waits %i ms', (restarts, ms) => {
    expect(backoffDelay(restarts, s)).toBe(ms);
  });

  it('restarts at once the first time', () => {
    expect(decide({ restarts: [] }, 1_000_000, s)).toEqual({ action: 'restart' });
  });

  it('waits out the backoff from the last restart', () => {
    const t = 1_000_000;
    expect(decide({ restarts: [t, t + 1000] }, t + 1500, s)).toEqual({
      action: 'wait',
      until: t + 3000,
    });
    expect(decide({ restarts: [t, t + 1000] }, t + 3000, s)).toEqual({ action: 'restart' });
  });

  it('gives up after the allowed restarts within the window', () => {
    const t = 1_000_000;
    const five = [t, t + 1000, t + 3000, t + 7000, t + 15_000];
    expect(decide({ restarts: five }, t + 16_000, s)).toEqual({ action: 'give-up', restarts: 5 });
  });

  it('does not count restarts that fell out of the window', () => {
    const t = 1_000_000;
    const five = [t, t + 1000, t + 3000, t + 7000, t + 15_000];
    expect(decide({ restarts: five }, t + 130_000, s).action).toBe('restart');
  });

  it('starts a new streak after a stretch of clean running', () => {
    expect(startsNewStreak({ restarts: [0] }, 59_999, s)).toBe(false);
    expect(startsNewStreak({ restarts: [0] }, 60_000, s)).toBe(true);
    expect(startsNewStreak({ restarts: [] }, 1, s)).toBe(true);
  });
});
