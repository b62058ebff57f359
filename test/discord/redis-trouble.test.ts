import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, watchUnhandled, type Harness } from './harness.js';
import { startOwnRedis, type OwnRedis } from '../support/redis-server.js';

// This file runs its own redis-server: it slows it down and stops it, which other files must not feel.
let redis: OwnRedis;
let h: Harness;
const unhandled = watchUnhandled();

beforeAll(async () => {
  redis = await startOwnRedis();
  h = await startHarness({ redisUrl: redis.url });
});
afterAll(async () => {
  await h?.stop();
  await redis?.dispose();
  unhandled.dispose();
});
afterEach(() => expect(unhandled.errors).toEqual([]));

const resultOf = (token: string) => () => {
  const m = h.standIn.original(token);
  return m && m.embeds.length > 0 ? m : undefined;
};

describe('when Redis is slow', () => {
  it('acknowledges within 3 s and answers once Redis is back', async () => {
    const sleeper = new Redis(redis.url);
    const sleeping = sleeper.call('DEBUG', 'SLEEP', '4');
    await new Promise((r) => setTimeout(r, 100));

    const { id, token } = h.standIn.sendCommand({ name: 'list' });
    const ack = await h.standIn.until(() => h.standIn.acknowledgement(id), 3000, 'the deferral');
    expect(ack.at - ack.createdAt).toBeLessThan(3000);

    const reply = await h.standIn.until(resultOf(token), 15_000, 'the result');
    expect(reply.embeds[0].title).toBe('1 service');
    expect(h.standIn.lateAcknowledgements).toBe(0);
    const notices = h.standIn.requests.filter(
      (r) => r.path.includes(token) && String(r.body?.content).includes('Redis is slow'),
    );
    expect(notices.length).toBeGreaterThan(0);

    await sleeping;
    sleeper.disconnect();
  });

  it('still answers autocomplete at once from its cache', async () => {
    const sleeper = new Redis(redis.url);
    const sleeping = sleeper.call('DEBUG', 'SLEEP', '2');
    await new Promise((r) => setTimeout(r, 100));

    const { id } = h.standIn.sendAutocomplete({
      name: 'scale',
      focused: 'service',
      options: { service: 'work' },
    });
    const choices = await h.standIn.until(() => h.standIn.choices(id), 1000, 'the choices');
    expect(choices.map((c) => c.value)).toContain('worker1');

    await sleeping;
    sleeper.disconnect();
  });
});

describe('when Redis is down', () => {
  it('answers "queue unavailable, nothing was run" within 3 s, privately, and works again once Redis is back', async () => {
    await redis.kill();

    const { id, token } = h.standIn.sendCommand({ name: 'list' });
    const ack = await h.standIn.until(() => h.standIn.acknowledgement(id), 3000, 'the deferral');
    const answer = await h.standIn.until(() => h.standIn.followUps(token)[0], 3000, 'the answer');
    expect(answer.content).toMatch(/queue unavailable/i);
    expect(answer.content).toContain('nothing was run');
    expect(answer.flags & 64).toBe(64);
    const sent = h.standIn.requests.find((r) => r.method === 'POST' && r.path.endsWith(token))!;
    expect(sent.at - ack.createdAt).toBeLessThan(3000);

    await redis.restart();
    const retry = await retryUntilAnswered(30_000);
    expect(retry.embeds[0].title).toBe('1 service');
  });
});

/** Sends /list every second until one gets a real answer, as a user would after Redis returns. */
async function retryUntilAnswered(boundMs: number) {
  const until = Date.now() + boundMs;
  while (Date.now() < until) {
    const { token } = h.standIn.sendCommand({ name: 'list' });
    const outcome = await h.standIn
      .until(
        () => resultOf(token)() ?? (h.standIn.followUps(token)[0] ? 'failed' : undefined),
        10_000,
        'an answer',
      )
      .catch(() => 'failed' as const);
    if (outcome !== 'failed') return outcome;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`no /list answered within ${boundMs} ms after Redis came back`);
}
