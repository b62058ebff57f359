import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { replicaName } from '../../src/engine/docker/store.js';
import { startHarness, type Harness } from '../discord/harness.js';
import { eventually } from '../support/engine.js';
import { startDeckhand, startedAt, type RecoveringDeckhand } from './deckhand.js';

const many = `many${Math.random().toString(36).slice(2, 7)}`;
const containers = Array.from({ length: 10 }, (_, i) => replicaName(many, i + 1));

describe('ten protected containers killed at once', () => {
  let d: RecoveringDeckhand;
  let discord: Harness;

  beforeAll(async () => {
    d = await startDeckhand({
      redisUrl: inject('redisUrl'),
      env: { RECOVERY_INTERVAL_MS: '2000', RECOVERY_SETTLE_MS: '1000' },
    });
    await d.ok(`run -itd --name ${many} busybox:latest sleep 1000000`);
    await d.ok(`scale up 9 ${many}`);
    // The real bot reads this instance's alert stream, paced as in production, and posts to a stand-in
    // Discord that answers 429 past Discord's channel limit of 5 messages in 5 s.
    discord = await startHarness({
      redisUrl: inject('redisUrl'),
      prefix: d.prefix,
      noWorker: true,
      bot: { alerts: { groupWindowMs: 1000, minIntervalMs: 1100 } },
    });
    discord.standIn.limitChannelMessages(5, 5000);
  });
  afterAll(async () => {
    await d?.close();
    await discord?.stop();
  });

  it('brings all ten back, publishing each incident once', async () => {
    const before = await Promise.all(containers.map((c) => startedAt(d.docker, c)));
    await Promise.all(containers.map((c) => d.docker.getContainer(c).kill()));

    await eventually(
      async () => {
        const now = await Promise.all(containers.map((c) => startedAt(d.docker, c)));
        return now.every((s, i) => s && s !== before[i]) ? true : undefined;
      },
      60_000,
      200,
    );
    await eventually(async () => ((await d.alerts()).length >= 10 ? true : undefined), 30_000, 200);

    await Promise.all([d.recovery.reconcile(), d.ok('recovery'), d.ok('list')]);
    const alerts = (await d.alerts()).filter((a) => a.service === many);
    expect(alerts.map((a) => a.container).sort()).toEqual([...containers].sort());
    expect(alerts.every((a) => a.kind === 'recovered' && a.exitCode === 137)).toBe(true);
  });

  it('reaches the channel as a few grouped messages, with no 429', async () => {
    const embeds = () =>
      discord.standIn.channelMessages(discord.standIn.alertChannelId).flatMap((m) => m.embeds);
    await eventually(async () => (embeds().length >= 10 ? true : undefined), 30_000, 200);

    const messages = discord.standIn.channelMessages(discord.standIn.alertChannelId);
    expect(messages.length).toBeLessThanOrEqual(3);
    expect(embeds()).toHaveLength(10);
    for (const c of containers.slice(1))
      expect(embeds().some((e) => e.footer?.text?.includes(`container ${c} `))).toBe(true);
    expect(discord.standIn.tooManyRequests).toBe(0);
  });
});
