import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { CommandResult } from '../../src/core/types.js';
import { startHarness, watchUnhandled, type Harness } from './harness.js';

let h: Harness;
const unhandled = watchUnhandled();
const gates = new Map<string, (r: CommandResult) => void>();

beforeAll(async () => {
  h = await startHarness({
    redisUrl: inject('redisUrl'),
    env: { COMMANDS_PER_MINUTE: '3', RESULT_TIMEOUT_MS: '5000' },
    bot: {
      pacing: { minEditMs: 300, slowNoticeMs: 1500, submitTimeoutMs: 8000, tokenLifetimeMs: 1000 },
    },
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

const inChannel = (userId: string) => () =>
  h.standIn.channelMessages(h.standIn.channelId).find((m) => m.content.includes(`<@${userId}>`));

describe('per-user command rate', () => {
  it('refuses the command over the limit privately and queues nothing for it', async () => {
    const user = '100000000000000501';
    const sent = Array.from({ length: 4 }, () =>
      h.standIn.sendCommand({ name: 'list', userId: user }),
    );
    for (const { id } of sent)
      await h.standIn.until(() => h.standIn.acknowledgement(id), 3000, 'an answer');

    const refusals = sent.filter(({ id }) => h.standIn.acknowledgement(id)!.type === 4);
    expect(refusals).toHaveLength(1);
    const body = h.standIn.requests.find((r) =>
      r.path.startsWith(`/interactions/${refusals[0]!.id}/`),
    )!.body;
    expect(body.data.content).toContain('at most 3 commands a minute');
    expect(body.data.flags & 64).toBe(64);
    await h.standIn.until(
      () => h.jobs.filter((j) => j.requester.userId === user).length === 3 || undefined,
      5000,
      '3 jobs',
    );
  });
});

describe('a result that outlives the interaction token', () => {
  it('goes to the channel without touching the expired token', async () => {
    const user = '100000000000000502';
    const { token } = h.standIn.sendCommand({
      name: 'start',
      options: { service: 'slowpoke' },
      userId: user,
    });
    await h.standIn.until(() => gates.has('slowpoke'), 5000, 'the job');
    await new Promise((r) => setTimeout(r, 1200));

    const released = Date.now();
    gates.get('slowpoke')!({ summary: 'started slowpoke' });
    const posted = await h.standIn.until(inChannel(user), 5000, 'the channel message');
    expect(posted.embeds[0].title).toBe('started slowpoke');
    expect(h.standIn.requests.filter((r) => r.path.includes(token) && r.at >= released)).toEqual(
      [],
    );
  });
});

describe('waiting for a result', () => {
  it('is bounded, and says the command may still be running', async () => {
    const user = '100000000000000503';
    h.standIn.sendCommand({ name: 'start', options: { service: 'forever' }, userId: user });
    const answer = await h.standIn.until(inChannel(user), 9000, 'the timeout answer');
    expect(answer.content).toContain('No result after 5 s');
    expect(answer.content).toContain('may still be running');
  });
});
