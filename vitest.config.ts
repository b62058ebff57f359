import { defineConfig } from 'vitest/config';

// Two projects: pure logic runs in parallel; anything that drives the real Docker engine runs one
// file at a time, because two cores cannot carry several engine-heavy files at once.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.docker.test.ts', 'node_modules/**'],
          globalSetup: ['test/support/global-redis.ts'],
          maxWorkers: 2,
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'docker',
          include: ['test/**/*.docker.test.ts'],
          globalSetup: ['test/support/global-redis.ts', 'test/support/global-images.ts'],
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
