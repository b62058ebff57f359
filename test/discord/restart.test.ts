import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { CommandResult } from '../../src/core/types.js';
import { startBot } from '../../src/discord/bot.js';
import { startHarness, watchUnhandled, type Harness } from './harness.js';

let h: Harness;
const unhandled = watchUnhandled();
const gates = new Map<string, (r: CommandResult) => void>();

beforeAll(async () => {
  h = await startHarness({
    redisUrl: inject('redisUrl'),
    answers: {
      start: (job) =>
        new Promise((resolve) => gates.set((job.data.command as { name: string }).name, resolve)),
    },
  });
});
afterAll(async () => {
  for (const open of gates.values()) open({ summary: 'released for shutdown' });
  await h?.stop();
  unhandled.dispose();
});
afterEach(() => expect(unhandled.errors).toEqual([]));

describe('a bot restarted while a command runs', () => {
  it('answers the command once, from the new run', async () => {
    const { token } = h.standIn.sendCommand({ name: 'start', options: { service: 'midway' } });
    await h.standIn.until(() => gates.has('midway'), 5000, 'the job');

    await h.bot.stop();
    h.bot = await startBot({ config: h.config, queue: h.queue, redis: h.redis, log: h.log });
    gates.get('midway')!({ summary: 'started midway' });

    const reply = await h.standIn.until(
      () => h.standIn.original(token)?.embeds[0],
      5000,
      'the answer from the new run',
    );
    expect(reply.title).toBe('started midway');
    // Both runs saw the job finish; the reply is owed until the new run clears it.
    const owed = () => h.redis.hlen(`${h.prefix}:discord:pending`);
    for (let k = 0; k < 100 && (await owed()) > 0; k++) await new Promise((r) => setTimeout(r, 20));
    expect(await owed()).toBe(0);
    const answers = h.standIn.requests.filter(
      (r) => r.path.includes(token) && r.body?.embeds?.length,
    );
    expect(answers).toHaveLength(1);
  });
});
