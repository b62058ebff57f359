import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MANAGER, type CommandOptions, type StoredMessage } from './stand-in/stand-in.js';
import { startHarness, watchUnhandled, type Harness } from './harness.js';
import {
  eventually,
  httpGet,
  publishedPort,
  startTestEngine,
  type TestEngine,
} from '../support/engine.js';

// Container names are engine-wide: unique ones keep this file clear of anyone else's.
const web = `web-${Math.random().toString(36).slice(2, 7)}`;

// The real discord.js bot, through the Discord stand-in, onto the same queue as the real worker,
// carrying out the engine's whole command list against the real Docker engine and proxy.
describe('slash commands end to end against the real engine', () => {
  let engine: TestEngine;
  let h: Harness;
  const unhandled = watchUnhandled();
  const OPERATOR = '100000000000000501';
  const STRANGER = '100000000000000502';
  const ROLE = '200000000000000501';

  beforeAll(async () => {
    engine = await startTestEngine();
    h = await startHarness({
      redisUrl: inject('redisUrl'),
      noWorker: true,
      prefix: `deckhand:${engine.config.DECKHAND_INSTANCE}`,
      env: {
        ALLOWED_ROLE_IDS: ROLE,
        ADMIN_USER_IDS: OPERATOR,
        DECKHAND_INSTANCE: engine.config.DECKHAND_INSTANCE,
      },
      bot: { pacing: { minEditMs: 300, slowNoticeMs: 1500, submitTimeoutMs: 8000 } },
    });
  });
  afterAll(async () => {
    await h?.stop();
    await engine?.close();
    unhandled.dispose();
    expect(unhandled.errors).toEqual([]);
  });

  const operator = (c: CommandOptions): CommandOptions => ({
    userId: OPERATOR,
    roles: [ROLE],
    permissions: MANAGER,
    ...c,
  });
  const text = (m: StoredMessage) =>
    [m.content, ...m.embeds.map((e) => JSON.stringify(e))].join('\n');

  /** Sends a slash command and resolves with the final reply (an embed, or an error text). */
  async function slash(c: CommandOptions, confirm = false): Promise<string> {
    const { id, token } = h.standIn.sendCommand(operator(c));
    await h.standIn.until(
      () => h.standIn.acknowledgement(id),
      3000,
      `the acknowledgement of /${c.name}`,
    );
    if (confirm) {
      const question = await h.standIn.until(
        () => h.standIn.original(token)?.components?.[0] && h.standIn.original(token),
        3000,
        'the question',
      );
      const [yes] = question.components[0].components;
      h.standIn.pressButton(question.id, yes.custom_id, {
        userId: OPERATOR,
        roles: [ROLE],
        permissions: MANAGER,
      });
    }
    const done = (m: StoredMessage | undefined) =>
      m &&
      !m.content.startsWith('⏳') &&
      (m.embeds.length > 0 || /error|refused|not|no /i.test(m.content)) &&
      !m.components?.length
        ? m
        : undefined;
    const reply = await h.standIn.until(
      () => done(h.standIn.original(token) ?? h.standIn.followUps(token).at(-1)),
      240_000,
      `the result of /${c.name}`,
    );
    return text(reply);
  }

  let image = '';

  it('builds an image with /build netcat', async () => {
    const reply = await slash({ name: 'build', sub: 'netcat', options: { port: 80 } });
    image = /image_\d+/.exec(reply)?.[0] ?? '';
    expect(reply).toMatch(/Built image_\d+/);
    await expect(engine.docker.getImage(image).inspect()).resolves.toBeTruthy();
  });

  it("runs the earlier tool's line through /run args", async () => {
    const reply = await slash({
      name: 'run',
      options: { args: `-itd -p 80 ${image} nc -lk -p 80` },
    });
    expect(reply).toMatch(/Started worker\d+/);
  });

  it('runs with structured options, and scales up behind the proxy', async () => {
    expect(
      await slash({
        name: 'run',
        options: { image: 'nginx:alpine', publish: '80', name: web },
      }),
    ).toMatch(new RegExp(`Started ${web}`));
    expect(
      await slash({ name: 'scale', options: { direction: 'up', count: 2, service: web } }),
    ).toMatch(/3 replicas/);
    const port = await publishedPort(engine, web);
    const hosts = new Set<string>();
    for (let i = 0; i < 30; i++) hosts.add((await httpGet(port)).body);
    expect(hosts.size).toBe(3);
  });

  it('asks before scaling down, stopping and quitting, and carries out what was confirmed', async () => {
    expect(
      await slash({ name: 'scale', options: { direction: 'down', count: 1, service: web } }, true),
    ).toMatch(/2 replicas/);
    expect(await slash({ name: 'stop', options: { service: web } }, true)).toMatch(
      new RegExp(`Stopped ${web}`),
    );
    expect(await slash({ name: 'start', options: { service: web } })).toMatch(
      new RegExp(`Started ${web}`),
    );
  });

  it('lists services in an embed, and recovers a killed replica', async () => {
    const list = await slash({ name: 'list' });
    expect(list).toContain(web);
    expect(list).toContain('2/2');

    await engine.docker.getContainer(`${web}-r2`).kill();
    expect(await slash({ name: 'recovery' })).toMatch(new RegExp(`${web}-r2`));
    await eventually(async () =>
      (await engine.docker.getContainer(`${web}-r2`).inspect()).State.Running ? true : undefined,
    );
  });

  it('refuses bad input with the same words as the console, and queues nothing', async () => {
    const reply = await slash({ name: 'run', options: { args: '--privileged nginx:alpine' } });
    expect(reply).toMatch(/--privileged/);
  });

  it('refuses a user without the role, queueing nothing', async () => {
    const before = await engine.queue.queue.getJobCountByTypes(
      'completed',
      'failed',
      'active',
      'waiting',
    );
    const { id, token } = h.standIn.sendCommand({ name: 'list', userId: STRANGER });
    await h.standIn.until(() => h.standIn.acknowledgement(id), 3000, 'the refusal');
    const refusal = await h.standIn.until(
      () => h.standIn.original(token) ?? h.standIn.followUps(token).at(-1),
      3000,
      'the refusal text',
    );
    expect(refusal.content).toMatch(/not on the list/i);
    expect(
      await engine.queue.queue.getJobCountByTypes('completed', 'failed', 'active', 'waiting'),
    ).toBe(before);
  });

  it('answers 20 list commands sent at once, each exactly once', async () => {
    const sent = Array.from({ length: 20 }, () =>
      h.standIn.sendCommand(operator({ name: 'list' })),
    );
    for (const { token } of sent) {
      await h.standIn.until(
        () => h.standIn.original(token)?.embeds.length,
        60_000,
        'every list reply',
      );
    }
    for (const { token } of sent) expect(h.standIn.followUps(token)).toHaveLength(0);
  });

  it('quits after confirmation, leaving nothing behind', async () => {
    expect(await slash({ name: 'quit' }, true)).toMatch(/Removed 3 containers/);
    const filters = { label: [`deckhand.instance=${engine.config.DECKHAND_INSTANCE}`] };
    expect(await engine.docker.listContainers({ all: true, filters })).toEqual([]);
  });
});
