import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, startPrivateRedis, type PrivateRedis } from '../../src/core/redis.js';
import { createRateLimiter, rateLimitMessage } from '../../src/ops/rate-limit.js';

const prefix = () => `deckhand:t-${randomBytes(4).toString('hex')}`;

describe('per-user rate limit', () => {
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    await redis.ping();
  });

  afterAll(() => redis.disconnect());

  it('lets a user send their budget, then refuses with the wait until the minute frees up', async () => {
    const limiter = createRateLimiter(redis, prefix(), 3);

    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await limiter.take('111111'));

    expect(answers.slice(0, 3).map((a) => a.ok)).toEqual([true, true, true]);
    expect(answers[3]!.ok).toBe(false);
    expect(answers[3]!.retryAfterMs).toBeGreaterThan(0);
    expect(answers[3]!.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('counts each user on their own', async () => {
    const limiter = createRateLimiter(redis, prefix(), 1);

    expect((await limiter.take('111111')).ok).toBe(true);
    expect((await limiter.take('111111')).ok).toBe(false);
    expect((await limiter.take('222222')).ok).toBe(true);
  });

  it('shares one budget between processes on the same Redis', async () => {
    const shared = prefix();
    const bot = createRateLimiter(redis, shared, 2);
    const console = createRateLimiter(redis, shared, 2);

    expect((await bot.take('333333')).ok).toBe(true);
    expect((await console.take('333333')).ok).toBe(true);
    expect((await bot.take('333333')).ok).toBe(false);
    expect(await redis.exists(`${shared}:ratelimit:333333`)).toBe(1);
  });

  it('keeps answering from memory while Redis is unreachable', async () => {
    const away = new Redis({
      host: '127.0.0.1',
      port: await freePort(),
      maxRetriesPerRequest: null,
    });
    away.on('error', () => undefined);
    const limiter = createRateLimiter(away, prefix(), 2);

    const answers = [
      await limiter.take('444444'),
      await limiter.take('444444'),
      await limiter.take('444444'),
    ];

    expect(answers.map((a) => a.ok)).toEqual([true, true, false]);
    away.disconnect();
  });

  describe('with a Redis that stalls', () => {
    let own: PrivateRedis;
    let slow: Redis;

    beforeAll(async () => {
      own = await startPrivateRedis();
      slow = new Redis(own.url, { maxRetriesPerRequest: null });
      await slow.ping();
    });

    afterAll(async () => {
      slow.disconnect();
      await own.stop();
    });

    it('decides from memory instead of waiting for the stalled server', async () => {
      const key = prefix();
      const limiter = createRateLimiter(slow, key, 5, { redisTimeoutMs: 200 });
      const admin = new Redis(own.url);
      await admin.call('CLIENT', 'PAUSE', '30000', 'WRITE');

      const answer = await limiter.take('555555');
      const writtenWhilePaused = await admin.exists(`${key}:ratelimit:555555`);
      await admin.call('CLIENT', 'UNPAUSE');

      expect(answer).toEqual({ ok: true, retryAfterMs: 0 });
      expect(writtenWhilePaused).toBe(0);
      admin.disconnect();
    });
  });

  it('answers politely with whole seconds', () => {
    expect(rateLimitMessage(12_300)).toBe(
      "You're sending commands faster than this channel allows; please try again in 13 s.",
    );
    expect(rateLimitMessage(0)).toMatch(/in 1 s\.$/);
  });
});
