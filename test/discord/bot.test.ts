import { UnrecoverableError } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { CommandResult, ServiceView } from '../../src/core/types.js';
import { embedSize } from '../../src/discord/render.js';
import { encodeFailure } from '../../src/jobs/failure.js';
import { startHarness, userFailure, watchUnhandled, type Harness } from './harness.js';

let h: Harness;
const unhandled = watchUnhandled();

/** Gates that let a test decide when the stand-in worker answers. */
const gates = new Map<string, (r: CommandResult) => void>();
const gated = (key: string) => new Promise<CommandResult>((resolve) => gates.set(key, resolve));

const services = (n: number): ServiceView[] =>
  Array.from({ length: n }, (_, k) => ({
    name: `svc${k + 1}`,
    image: 'image_1',
    state: 'running' as const,
    running: 1,
    desired: 1,
    ports: [`0.0.0.0:${20000 + k}->80/tcp`],
    protected: true,
    replicas: [],
  }));

beforeAll(async () => {
  h = await startHarness({
    redisUrl: inject('redisUrl'),
    answers: {
      start: async (job) => {
        const name = (job.data.command as { name: string }).name;
        if (name === 'ghost') userFailure('no service named "ghost"; see /list');
        if (name === 'broken')
          throw new UnrecoverableError(
            encodeFailure({ kind: 'internal', message: 'internal error', ref: 'abcd1234' }),
          );
        if (name === 'late') return gated('late');
        return { summary: `started ${name}` };
      },
      recovery: async () => ({
        summary: 'recovered 300 containers',
        details: Array.from({ length: 300 }, (_, k) => `worker${k} restarted after exit 137`),
      }),
      list: async (job) => {
        if (job.data.requester.userId === '100000000000000777')
          return { summary: '300 services', services: services(300) };
        return { summary: '1 service', services: services(1) };
      },
      build: async (job) => {
        for (let k = 1; k <= 12; k++) {
          await job.updateProgress({ lines: [`Step ${k}/12 : RUN something ${k}`] });
          await new Promise((r) => setTimeout(r, 60));
        }
        return { summary: 'Built image_7', image: 'image_7', details: ['12 steps'] };
      },
    },
  });
});
afterAll(async () => {
  await h?.stop();
  unhandled.dispose();
});
afterEach(() => expect(unhandled.errors).toEqual([]));

const withEmbeds = (token: string) => () => {
  const m = h.standIn.original(token);
  return m && m.embeds.length > 0 ? m : undefined;
};

describe('a slash command', () => {
  it('is deferred at once, then the reply shows the services as a table', async () => {
    const { id, token } = h.standIn.sendCommand({ name: 'list' });
    const ack = await h.standIn.until(() => h.standIn.acknowledgement(id), 3000, 'the deferral');
    expect(ack.type).toBe(5);

    const reply = await h.standIn.until(withEmbeds(token), 5000, 'the result');
    expect(reply.embeds[0].title).toBe('1 service');
    const field = reply.embeds[1].fields[0];
    expect(field.name).toBe('svc1');
    expect(field.value).toMatch(/image_1.*1\/1 running.*running/);
    expect(field.value).toContain('0.0.0.0:20000->80/tcp');
    expect(field.value).toContain('protected');
  });

  it('travels as the console line it stands for, with who asked', async () => {
    h.standIn.sendCommand({
      name: 'scale',
      options: { direction: 'up', count: 3, service: 'worker1' },
      userId: '100000000000000042',
    });
    const job = await h.standIn.until(
      () => h.jobs.find((j) => j.command.kind === 'scale'),
      5000,
      'the job',
    );
    expect(job.text).toBe('scale up 3 worker1');
    expect(job.command).toEqual({ kind: 'scale', direction: 'up', count: 3, name: 'worker1' });
    expect(job.requester).toMatchObject({
      source: 'discord',
      userId: '100000000000000042',
      channelId: h.standIn.channelId,
      guildId: h.standIn.guildId,
    });
  });

  it('shows build progress by editing the reply no faster than the pace allows', async () => {
    const { token } = h.standIn.sendCommand({
      name: 'build',
      sub: 'install',
      options: { package: 'curl' },
    });
    const reply = await h.standIn.until(withEmbeds(token), 10_000, 'the build result');
    expect(reply.embeds[0].title).toBe('Built image_7');
    expect(reply.embeds[0].fields).toEqual([{ name: 'Image', value: 'image_7', inline: true }]);

    const edits = h.standIn.requests.filter((r) => r.method === 'PATCH' && r.path.includes(token));
    const progress = edits.filter((r) => String(r.body?.content ?? '').startsWith('⏳'));
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.some((r) => String(r.body.content).includes('Step'))).toBe(true);
    for (let k = 1; k < edits.length; k++) {
      // The final result may follow a progress edit at once; progress edits keep the pace.
      if (k < edits.length - 1) expect(edits[k]!.at - edits[k - 1]!.at).toBeGreaterThanOrEqual(250);
    }
  });

  it('answers bad input privately, naming what was wrong, and queues nothing', async () => {
    const before = h.jobs.length;
    const { id } = h.standIn.sendCommand({
      name: 'build',
      sub: 'install',
      options: { package: 'curl; touch /tmp/x' },
    });
    const ack = await h.standIn.until(() => h.standIn.acknowledgement(id), 3000, 'the refusal');
    expect(ack.type).toBe(4);
    const req = h.standIn.requests.find((r) => r.path.startsWith(`/interactions/${id}/`))!;
    expect(req.body.data.flags & 64).toBe(64);
    expect(req.body.data.content).toContain('not a Debian package name');
    expect(h.jobs.length).toBe(before);
  });

  it('refuses the same docker-run flags as the console', async () => {
    const { id } = h.standIn.sendCommand({
      name: 'run',
      options: { args: '--privileged -d image_1' },
    });
    await h.standIn.until(() => h.standIn.acknowledgement(id), 3000, 'the refusal');
    const req = h.standIn.requests.find((r) => r.path.startsWith(`/interactions/${id}/`))!;
    expect(req.body.data.content).toContain('--privileged');
    expect(req.body.data.flags & 64).toBe(64);
  });

  it('shows a failure the user caused privately, with the reason', async () => {
    const { token } = h.standIn.sendCommand({ name: 'start', options: { service: 'ghost' } });
    const error = await h.standIn.until(() => h.standIn.followUps(token)[0], 5000, 'the error');
    expect(error.flags & 64).toBe(64);
    expect(error.content).toContain('no service named "ghost"');
    expect(h.standIn.original(token)?.deleted).toBe(true);
  });

  it('shows an internal failure with the reference from the log line', async () => {
    const { token } = h.standIn.sendCommand({ name: 'start', options: { service: 'broken' } });
    const error = await h.standIn.until(() => h.standIn.followUps(token)[0], 5000, 'the error');
    expect(error.flags & 64).toBe(64);
    expect(error.content).toContain('abcd1234');
    expect(error.content).not.toContain('stack');
  });

  it('attaches long output as a file instead of cutting it', async () => {
    const { token } = h.standIn.sendCommand({ name: 'recovery' });
    const reply = await h.standIn.until(withEmbeds(token), 5000, 'the result');
    expect(reply.embeds[0].description.length).toBeLessThanOrEqual(4096);
    expect(reply.embeds[0].description).toContain('attached as output.txt');
    const file = reply.files.find((f) => f.name === 'output.txt');
    expect(file?.text.split('\n').filter(Boolean)).toHaveLength(301);
  });

  it('spreads a long service list over several embeds and messages, losing none', async () => {
    const { token } = h.standIn.sendCommand({ name: 'list', userId: '100000000000000777' });
    await h.standIn.until(withEmbeds(token), 5000, 'the result');
    await h.standIn.until(
      () => {
        const all = [h.standIn.original(token)!, ...h.standIn.followUps(token)];
        const names = all.flatMap((m) =>
          m.embeds.flatMap((e: any) => (e.fields ?? []).map((f: any) => f.name)),
        );
        return names.length >= 300 ? all : undefined;
      },
      10_000,
      'all 300 services',
    );

    const all = [h.standIn.original(token)!, ...h.standIn.followUps(token)];
    expect(all.length).toBeGreaterThan(1);
    for (const m of all) {
      expect(m.embeds.length).toBeLessThanOrEqual(10);
      expect(m.embeds.reduce((n: number, e: any) => n + embedSize(e), 0)).toBeLessThanOrEqual(6000);
      for (const e of m.embeds) expect((e.fields ?? []).length).toBeLessThanOrEqual(25);
    }
    const names = all.flatMap((m) =>
      m.embeds.flatMap((e: any) => (e.fields ?? []).map((f: any) => f.name)),
    );
    expect(new Set(names).size).toBe(300);
  });

  it('posts the result in the channel, mentioning the user, once the token has expired', async () => {
    const { token } = h.standIn.sendCommand({
      name: 'start',
      options: { service: 'late' },
      userId: '100000000000000099',
    });
    await h.standIn.until(() => gates.has('late'), 5000, 'the job to start');
    h.standIn.expireToken(token);
    gates.get('late')!({ summary: 'started late' });

    const posted = await h.standIn.until(
      () =>
        h.standIn
          .channelMessages(h.standIn.channelId)
          .find((m) => m.content.includes('<@100000000000000099>')),
      5000,
      'the channel message',
    );
    expect(posted.embeds[0].title).toBe('started late');
    expect(posted.content).toContain('start late');
    const post = h.standIn.requests.find(
      (r) => r.path === `/channels/${h.standIn.channelId}/messages`,
    )!;
    expect(post.body.allowed_mentions).toEqual({ users: ['100000000000000099'] });
  });

  it('answers 20 commands sent at once, each exactly once', async () => {
    const sent = Array.from({ length: 20 }, () => h.standIn.sendCommand({ name: 'list' }));
    for (const { id, token } of sent) {
      await h.standIn.until(() => h.standIn.acknowledgement(id), 3000, `deferral of ${id}`);
      await h.standIn.until(withEmbeds(token), 10_000, `result of ${id}`);
    }
    for (const { id, token } of sent) {
      const callbacks = h.standIn.requests.filter((r) => r.path.startsWith(`/interactions/${id}/`));
      expect(callbacks).toHaveLength(1);
      const results = h.standIn.requests.filter(
        (r) => r.path.includes(token) && r.body?.embeds?.length > 0,
      );
      expect(results).toHaveLength(1);
    }
    expect(h.standIn.lateAcknowledgements).toBe(0);
  });

  it('answers /help privately without queuing anything', async () => {
    const before = h.jobs.length;
    const { id } = h.standIn.sendCommand({ name: 'help' });
    await h.standIn.until(() => h.standIn.acknowledgement(id), 3000, 'the answer');
    const req = h.standIn.requests.find((r) => r.path.startsWith(`/interactions/${id}/`))!;
    expect(req.body.data.content).toContain('scale up N NAME');
    expect(h.jobs.length).toBe(before);
  });
});

describe('autocomplete', () => {
  it('offers files from myimages/ filtered by what was typed', async () => {
    const { id } = h.standIn.sendAutocomplete({
      name: 'build',
      focused: 'file',
      options: { file: 'scr' },
    });
    const choices = await h.standIn.until(() => h.standIn.choices(id), 3000, 'the choices');
    expect(choices.map((c) => c.value)).toContain('script1');
  });

  it('offers service names the bot has seen, at most 25', async () => {
    const { token } = h.standIn.sendCommand({ name: 'list', userId: '100000000000000777' });
    await h.standIn.until(withEmbeds(token), 5000, 'the list');
    const { id } = h.standIn.sendAutocomplete({
      name: 'stop',
      focused: 'service',
      options: { service: 'svc' },
    });
    const choices = await h.standIn.until(() => h.standIn.choices(id), 3000, 'the choices');
    expect(choices).toHaveLength(25);
    expect(choices.every((c) => String(c.value).startsWith('svc'))).toBe(true);

    const narrow = h.standIn.sendAutocomplete({
      name: 'stop',
      focused: 'service',
      options: { service: 'svc4' },
    });
    const few = await h.standIn.until(() => h.standIn.choices(narrow.id), 3000, 'the choices');
    expect(few.map((c) => c.value).slice(0, 3)).toEqual(['svc4', 'svc40', 'svc41']);
    expect(few.every((c) => String(c.value).includes('svc4'))).toBe(true);
  });
});
