import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import { createLogger } from '../../src/core/log.js';
import { redisOptions } from '../../src/core/redis.js';
import { DockerBackend } from '../../src/engine/docker/docker-backend.js';
import { RECOVERY_SCHEDULER } from '../../src/recovery/schedule.js';
import { startRecovery, type Recovery } from '../../src/recovery/start-recovery.js';
import { eventually } from '../support/engine.js';
import { countEvents } from './engine-log.js';
import { startDeckhand, startedAt, type RecoveringDeckhand } from './deckhand.js';

const svc = `sched${Math.random().toString(36).slice(2, 7)}`;

describe('the recovery schedule', () => {
  let d: RecoveringDeckhand;

  beforeAll(async () => {
    d = await startDeckhand({
      redisUrl: inject('redisUrl'),
      env: { RECOVERY_INTERVAL_MS: '2000', RECOVERY_SETTLE_MS: '500' },
    });
  });
  afterAll(async () => {
    await d?.close();
  });

  it('stays one schedule, at the newest interval, however often the worker restarts', async () => {
    for (let i = 0; i < 5; i++) await d.restartRecovery();
    const recovery = await d.restartRecovery({ RECOVERY_INTERVAL_MS: '1500' });
    // Several processes starting at once upsert at once.
    await Promise.all([1, 2, 3, 4, 5].map(() => recovery.schedule.ensure()));

    const schedulers = await recovery.schedule.queue.getJobSchedulers();
    expect(schedulers).toHaveLength(1);
    expect(schedulers[0]).toMatchObject({ key: RECOVERY_SCHEDULER, every: 1500 });
    const queued = (await recovery.schedule.queue.getJobCounts(
      'delayed',
      'waiting',
      'prioritized',
    )) as Record<string, number>;
    expect(Object.values(queued).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1);
  });

  it('runs about once an interval', async () => {
    const queue = d.recovery.schedule.queue;
    const mark = Date.now();
    await eventually(async () => (Date.now() - mark >= 5 * 1500 ? true : undefined), 15_000, 100);
    const runs = (await queue.getCompleted(0, 500)).filter(
      (j) => (j.finishedOn ?? 0) > mark,
    ).length;
    expect(runs).toBeGreaterThanOrEqual(4);
    expect(runs).toBeLessThanOrEqual(6);
  });

  it('gives a crashed container one restart and one alert, with two Deckhand processes watching', async () => {
    const config = loadConfig({
      ...d.env,
      RECOVERY_INTERVAL_MS: String(d.config.RECOVERY_INTERVAL_MS),
    });
    const redis = new Redis(redisOptions(inject('redisUrl')));
    const log = createLogger('warn', false);
    const other = new DockerBackend(d.docker, redis, config, log);
    let second: Recovery | undefined;
    try {
      second = await startRecovery({
        backend: other,
        redis,
        connection: redisOptions(inject('redisUrl')),
        config,
        log,
      });
      await second.ready;

      await d.ok(`run -itd --name ${svc} busybox:latest sleep 1000000`);
      const before = await startedAt(d.docker, svc);
      const since = Date.now();
      await d.docker.getContainer(svc).kill();
      await eventually(
        async () => {
          const s = await startedAt(d.docker, svc);
          return s && s !== before ? s : undefined;
        },
        10_000,
        50,
      );
      const alerts = await eventually(async () => {
        const a = (await d.alerts()).filter((x) => x.container === svc);
        return a.length > 0 ? a : undefined;
      });

      // Both processes look again; neither restarts or alerts a second time.
      await Promise.all([d.recovery.reconcile(), second.reconcile(), d.ok('recovery')]);
      expect(await countEvents(d.docker, svc, 'start', since)).toBe(1);
      expect(alerts).toHaveLength(1);
      expect((await d.alerts()).filter((x) => x.container === svc)).toHaveLength(1);
    } finally {
      await second?.stop();
      redis.disconnect();
    }
  });
});
