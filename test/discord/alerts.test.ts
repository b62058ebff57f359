import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { alertsKey, publishAlert, type Alert } from '../../src/discord/alerts.js';
import { startBot } from '../../src/discord/bot.js';
import { startHarness, watchUnhandled, type Harness } from './harness.js';

let h: Harness;
const unhandled = watchUnhandled();

beforeAll(async () => {
  // Real pacing: a burst must become a few messages without any 429 from a channel that allows 1 a second.
  h = await startHarness({
    redisUrl: inject('redisUrl'),
    bot: { alerts: { groupWindowMs: 500, minIntervalMs: 1100 } },
  });
  h.standIn.limitChannelMessages(1, 1000);
});
afterAll(async () => {
  await h?.stop();
  unhandled.dispose();
});
afterEach(() => expect(unhandled.errors).toEqual([]));

const alert = (service: string, extra: Partial<Alert> = {}): Alert => ({
  kind: 'crashed',
  service,
  container: `${service}-r1`,
  message: `${service}-r1 exited; restarted it`,
  exitCode: 137,
  at: new Date().toISOString(),
  ...extra,
});

const posted = () => h.standIn.channelMessages(h.standIn.alertChannelId);
const titles = () => posted().flatMap((m) => m.embeds.map((e: any) => e.title as string));

describe('alerts', () => {
  it('reach the alert channel with what happened', async () => {
    await publishAlert(
      h.redis,
      h.prefix,
      alert('web', { oom: true, logTail: ['starting', 'out of memory'] }),
    );
    const m = await h.standIn.until(() => posted()[0], 5000, 'the alert');
    expect(m.embeds[0].title).toBe('🔴 web crashed');
    expect(m.embeds[0].description).toContain('exit code 137');
    expect(m.embeds[0].description).toContain('OOM');
    expect(m.embeds[0].description).toContain('out of memory');
    expect(m.embeds[0].footer.text).toContain('web-r1');
  });

  it('are grouped when many arrive at once, paced without a single 429, none lost', async () => {
    const before = posted().length;
    await Promise.all(
      Array.from({ length: 25 }, (_, k) => publishAlert(h.redis, h.prefix, alert(`burst${k}`))),
    );

    await h.standIn.until(
      () => titles().filter((t) => t.includes('burst')).length >= 25,
      15_000,
      'all 25 alerts',
    );
    const messages = posted().length - before;
    expect(messages).toBeLessThanOrEqual(4);
    expect(new Set(titles().filter((t) => t.includes('burst'))).size).toBe(25);
    expect(h.standIn.tooManyRequests).toBe(0);
    expect(h.logs.filter((l) => l.includes('429'))).toEqual([]);
  });

  it('wait in Redis while Discord refuses them, and are posted once it accepts', async () => {
    h.standIn.refuseChannel(h.standIn.alertChannelId);
    await publishAlert(h.redis, h.prefix, alert('refused-at-first', { kind: 'crash-looping' }));
    await h.standIn.until(
      () => h.standIn.requests.some((r) => r.status === 403),
      5000,
      'a refused post',
    );
    expect(titles().some((t) => t.includes('refused-at-first'))).toBe(false);

    h.standIn.refuseChannel(h.standIn.alertChannelId, false);
    await h.standIn.until(
      () => titles().some((t) => t.includes('refused-at-first')),
      10_000,
      'the retried alert',
    );
    expect(titles().filter((t) => t.includes('refused-at-first'))).toHaveLength(1);
  });

  it('skip an entry that is not an alert without holding up the ones after it', async () => {
    await h.redis.xadd(alertsKey(h.prefix), '*', 'alert', '{not json');
    await h.redis.xadd(alertsKey(h.prefix), '*', 'something', 'else');
    await publishAlert(h.redis, h.prefix, alert('after-junk'));
    await h.standIn.until(
      () => titles().some((t) => t.includes('after-junk')),
      10_000,
      'the good alert',
    );
    // Acknowledged once posted: nothing, junk included, stays pending.
    const pendingCount = async () =>
      ((await h.redis.xpending(alertsKey(h.prefix), 'discord')) as [number])[0];
    for (let k = 0; k < 100 && (await pendingCount()) > 0; k++)
      await new Promise((r) => setTimeout(r, 50));
    expect(await pendingCount()).toBe(0);
  });

  it('sent while the bot is away are posted when it comes back', async () => {
    await h.bot.stop();
    await publishAlert(h.redis, h.prefix, alert('while-away', { kind: 'recovered', downMs: 4000 }));

    h.bot = await startBot({
      config: h.config,
      queue: h.queue,
      redis: h.redis,
      log: h.log,
      readyTimeoutMs: 10_000,
    });
    await h.standIn.until(
      () => titles().some((t) => t.includes('while-away')),
      10_000,
      'the alert sent while away',
    );
    expect(titles().filter((t) => t.includes('while-away'))).toEqual(['🟢 while-away recovered']);
  });
});
