import type { Redis } from 'ioredis';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  RLWrapperTimeouts,
} from 'rate-limiter-flexible';

/** The answer to "may this user send a command now?", and how long to wait when not. */
export interface RateDecision {
  ok: boolean;
  retryAfterMs: number;
}

/** A per-user budget of commands per minute, shared by every process on the same Redis. */
export interface RateLimiter {
  take(userId: string): Promise<RateDecision>;
}

/** Creates a per-user limiter on Redis that falls back to process memory when Redis is away or slow. */
export function createRateLimiter(
  redis: Redis,
  prefix: string,
  perMinute: number,
  options: { redisTimeoutMs?: number } = {},
): RateLimiter {
  const budget = { points: perMinute, duration: 60 };

  // The acknowledgement to Discord must not wait on a Redis that is down or asleep (DEBUG SLEEP),
  // so a missing or slow answer is decided by an in-memory budget instead of blocking.
  const limiter = new RLWrapperTimeouts({
    limiter: new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `${prefix}:ratelimit`,
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory(budget),
      ...budget,
    }),
    timeoutMs: options.redisTimeoutMs ?? 500,
  });

  return {
    async take(userId) {
      try {
        await limiter.consume(userId);
        return { ok: true, retryAfterMs: 0 };
      } catch (err) {
        if (err instanceof RateLimiterRes) return { ok: false, retryAfterMs: err.msBeforeNext };
        throw err;
      }
    },
  };
}

/** The polite reply to someone over their budget. */
export function rateLimitMessage(retryAfterMs: number): string {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return `You're sending commands faster than this channel allows; please try again in ${seconds} s.`;
}
