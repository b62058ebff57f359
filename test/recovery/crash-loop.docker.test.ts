import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually } from '../support/engine.js';
import { countEvents } from './engine-log.js';
import { startDeckhand, type RecoveringDeckhand } from './deckhand.js';

const loop = `loop${Math.random().toString(36).slice(2, 7)}`;

describe('a replica that dies as soon as it starts', () => {
  let d: RecoveringDeckhand;
  let since: number;
  const alerts = async () => (await d.alerts()).filter((a) => a.container === loop);

  beforeAll(async () => {
    d = await startDeckhand({
      redisUrl: inject('redisUrl'),
      env: {
        RECOVERY_INTERVAL_MS: '1000',
        CRASHLOOP_MAX_RESTARTS: '3',
        CRASHLOOP_BACKOFF_MS: '200',
        CRASHLOOP_BACKOFF_MAX_MS: '2000',
        CRASHLOOP_WINDOW_MS: '60000',
        RECOVERY_SETTLE_MS: '1500',
      },
    });
    since = Date.now() - 1000;
    await d.ok(`run -itd --name ${loop} busybox:latest sh -c "exit 3"`);
  });
  afterAll(async () => {
    await d?.close();
  });

  it('is restarted with backoff a bounded number of times, then marked crash-looping with one alert', async () => {
    await eventually(
      async () => ((await d.ok('list')).includes('crash-looping') ? true : undefined),
      30_000,
      250,
    );

    const posted = await alerts();
    expect(posted).toHaveLength(1);
    expect(posted[0]).toMatchObject({
      kind: 'crash-looping',
      service: loop,
      container: loop,
      exitCode: 3,
    });
    expect(posted[0]!.message).toMatch(/restarted 3 times/);
    // The first run, then one death per restart.
    expect(await countEvents(d.docker, loop, 'die', since)).toBe(4);
  });

  it('makes no more attempts and sends no more alerts until the user starts it', async () => {
    const passes = async () =>
      (await d.recovery.schedule.queue.getCompleted(0, 500)).filter(
        (j) => (j.finishedOn ?? 0) > mark,
      ).length;
    const mark = Date.now();
    await eventually(async () => ((await passes()) >= 3 ? true : undefined), 20_000, 200);
    await d.ok('recovery');

    expect(await countEvents(d.docker, loop, 'die', since)).toBe(4);
    expect(await alerts()).toHaveLength(1);
    expect(await d.ok('list')).toMatch(
      new RegExp(`${loop}\\s+busybox:latest\\s+0/1\\s+crash-looping`),
    );
  });

  it('tries again after start, as a new incident', async () => {
    const before = await countEvents(d.docker, loop, 'die', since);
    await d.ok(`start ${loop}`);
    await eventually(async () => ((await alerts()).length === 2 ? true : undefined), 30_000, 250);

    expect((await alerts()).map((a) => a.kind)).toEqual(['crash-looping', 'crash-looping']);
    expect(await countEvents(d.docker, loop, 'die', since)).toBe(before + 4);
  });
});
