import { describe, expect, inject, it } from 'vitest';
import { benchDiscord } from './bench.js';

describe('benchDiscord', () => {
  it('measures acknowledgement and list reply for every run', async () => {
    const result = await benchDiscord({ redisUrl: inject('redisUrl'), runs: 10 });
    expect(result.runs).toBe(10);
    expect(result.ackMs.p50).toBeGreaterThanOrEqual(0);
    expect(result.ackMs.p99).toBeLessThan(3000);
    expect(result.listMs.p50).toBeGreaterThanOrEqual(result.ackMs.p50);
    expect(Number.isFinite(result.listMs.max)).toBe(true);
  });
});
