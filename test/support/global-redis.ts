import 'vitest';
import type { TestProject } from 'vitest/node';
import { startPrivateRedis } from '../../src/core/redis.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

/** Gives every test file a Redis: TEST_REDIS_URL when set, else a private redis-server for this run. */
export default async function setup(project: TestProject) {
  if (process.env.TEST_REDIS_URL) {
    project.provide('redisUrl', process.env.TEST_REDIS_URL);
    return;
  }
  const redis = await startPrivateRedis();
  project.provide('redisUrl', redis.url);
  return () => redis.stop();
}
