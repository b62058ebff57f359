import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECOVERY_SCHEDULER } from '../../src/recovery/schedule.js';
import { eventually } from '../support/engine.js';
import { startDeckhand, startedAt, type RecoveringDeckhand } from './deckhand.js';
import { startOwnRedis, type OwnRedis } from '../support/redis-server.js';

const svc = `red${Math.random().toString(36).slice(2, 7)}`;
const INTERVAL_MS = 1000;

describe('Redis restarted empty while Deckhand runs', () => {
  let redis: OwnRedis;
  let d: RecoveringDeckhand;

  beforeAll(async () => {
    redis = await startOwnRedis();
    d = await startDeckhand({
      redisUrl: redis.url,
      env: { RECOVERY_INTERVAL_MS: String(INTERVAL_MS), RECOVERY_SETTLE_MS: '500' },
    });
    await d.ok(`run -itd --name ${svc} busybox:latest sleep 1000000`);
    await redis.shutdownNoSave();
    await redis.restart();
  });
  afterAll(async () => {
    await d?.close();
    await redis?.dispose();
  });

  it("answers list again within 30 s, from the containers' labels, without a restart", async () => {
    const listed = await eventually(
      async () => {
        const out = await d.exec('list');
        return out.ok ? out.output : undefined;
      },
      30_000,
      500,
    );
    expect(listed).toMatch(new RegExp(`${svc}\\s+busybox:latest\\s+1/1\\s+running`));
  });

  it('puts the recovery schedule back', async () => {
    const scheduler = await eventually(
      () => d.recovery.schedule.queue.getJobScheduler(RECOVERY_SCHEDULER),
      3 * INTERVAL_MS + 5000,
      200,
    );
    expect(scheduler).toMatchObject({ every: INTERVAL_MS });
  });

  it('still brings a killed container back, within two intervals', async () => {
    const before = await startedAt(d.docker, svc);
    await d.docker.getContainer(svc).kill();
    await eventually(
      async () => {
        const s = await startedAt(d.docker, svc);
        return s && s !== before ? s : undefined;
      },
      2 * INTERVAL_MS + 2000,
      50,
    );
    const alerts = await eventually(async () => {
      const a = (await d.alerts()).filter((x) => x.container === svc);
      return a.length > 0 ? a : undefined;
    });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ kind: 'recovered', exitCode: 137 });
  });
});
