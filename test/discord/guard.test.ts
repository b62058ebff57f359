import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { AuditLog } from '../../src/discord/audit.js';
import { startHarness, watchUnhandled, type Harness } from './harness.js';

const ROLE = '200000000000000001';
const ADMIN = '200000000000000002';
const OPERATOR = '100000000000000010';
const BOSS = '100000000000000020';
const STRANGER = '100000000000000030';

let h: Harness;
let audit: AuditLog;
const unhandled = watchUnhandled();

beforeAll(async () => {
  h = await startHarness({
    redisUrl: inject('redisUrl'),
    env: { ALLOWED_ROLE_IDS: ROLE, ADMIN_ROLE_IDS: ADMIN },
    bot: { confirmTtlMs: 1500 },
  });
  audit = new AuditLog(h.redis, h.prefix, 1000, h.log);
});
afterAll(async () => {
  await h?.stop();
  unhandled.dispose();
});
afterEach(() => expect(unhandled.errors).toEqual([]));

const callbackOf = (id: string) =>
  h.standIn.requests.find((r) => r.path.startsWith(`/interactions/${id}/`));
const auditFor = (userId: string, outcome: string) => async () =>
  (await audit.recent(200)).find((e) => e.userId === userId && e.outcome === outcome);
const poll = async <T>(f: () => Promise<T | undefined>, ms = 5000): Promise<T> => {
  const until = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > until) throw new Error('timed out polling');
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('who may do what', () => {
  it('refuses a member without the role privately, queues nothing, and audits the refusal', async () => {
    const { id } = h.standIn.sendCommand({ name: 'list', userId: STRANGER });
    await h.standIn.until(() => h.standIn.acknowledgement(id), 3000, 'the refusal');
    const cb = callbackOf(id)!;
    expect(cb.body.type).toBe(4);
    expect(cb.body.data.flags & 64).toBe(64);
    expect(cb.body.data.content).toContain('Nothing was run');

    const entry = await poll(auditFor(STRANGER, 'refused'));
    expect(entry).toMatchObject({
      command: 'list',
      channelId: h.standIn.channelId,
      guildId: h.standIn.guildId,
    });
    expect(h.jobs.filter((j) => j.requester.userId === STRANGER)).toEqual([]);
  });

  it('refuses scale down to a member who has only the everyday role', async () => {
    const { id } = h.standIn.sendCommand({
      name: 'scale',
      options: { direction: 'down', count: 1, service: 'worker1' },
      userId: OPERATOR,
      roles: [ROLE],
    });
    await h.standIn.until(() => h.standIn.acknowledgement(id), 3000, 'the refusal');
    expect(callbackOf(id)!.body.data.content).toContain('only Deckhand admins');
    expect(await poll(auditFor(OPERATOR, 'refused'))).toMatchObject({
      command: 'scale down 1 worker1',
    });
  });

  it('lets a member with the role scale up, and audits the job id', async () => {
    const { token } = h.standIn.sendCommand({
      name: 'scale',
      options: { direction: 'up', count: 2, service: 'worker1' },
      userId: OPERATOR,
      roles: [ROLE],
    });
    await h.standIn.until(() => h.standIn.original(token)?.embeds.length, 5000, 'the result');
    const done = await poll(auditFor(OPERATOR, 'succeeded'));
    const queued = await poll(auditFor(OPERATOR, 'queued'));
    expect(done.jobId).toBe(queued.jobId);
    expect(done.jobId).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('confirmation of commands that remove things', () => {
  it('queues the command once the requester presses the red button', async () => {
    const { id, token } = h.standIn.sendCommand({
      name: 'stop',
      options: { service: 'worker1' },
      userId: BOSS,
      roles: [ADMIN],
    });
    await h.standIn.until(() => h.standIn.acknowledgement(id), 3000, 'the question');
    const question = h.standIn.original(token)!;
    const [confirm, cancel] = question.components[0].components;
    expect(confirm.style).toBe(4);
    expect(cancel.label).toBe('Cancel');
    expect(h.jobs.some((j) => j.requester.userId === BOSS && j.command.kind === 'stop')).toBe(
      false,
    );

    const press = h.standIn.pressButton(question.id, confirm.custom_id, {
      userId: BOSS,
      roles: [ADMIN],
    });
    await h.standIn.until(() => h.standIn.acknowledgement(press.id), 3000, 'the press');
    const reply = await h.standIn.until(
      () => h.standIn.original(token)?.embeds[0],
      5000,
      'the result',
    );
    expect(reply.title).toBe('stopped worker1');
    expect(h.standIn.original(token)!.components).toEqual([]);
    expect(
      h.jobs.filter((j) => j.requester.userId === BOSS && j.command.kind === 'stop'),
    ).toHaveLength(1);
  });

  it('lets nobody else press it', async () => {
    const { id, token } = h.standIn.sendCommand({ name: 'quit', userId: BOSS, roles: [ADMIN] });
    await h.standIn.until(() => h.standIn.acknowledgement(id), 3000, 'the question');
    const question = h.standIn.original(token)!;
    const confirm = question.components[0].components[0];

    const press = h.standIn.pressButton(question.id, confirm.custom_id, {
      userId: OPERATOR,
      roles: [ADMIN],
    });
    await h.standIn.until(
      () => h.standIn.acknowledgement(press.id),
      3000,
      'the answer to the press',
    );
    const answer = callbackOf(press.id)!;
    expect(answer.body.type).toBe(4);
    expect(answer.body.data.flags & 64).toBe(64);
    expect(answer.body.data.content).toContain(`Only <@${BOSS}>`);
    expect(h.jobs.some((j) => j.command.kind === 'quit')).toBe(false);

    const cancel = h.standIn.pressButton(
      question.id,
      question.components[0].components[1].custom_id,
      { userId: BOSS, roles: [ADMIN] },
    );
    await h.standIn.until(() => h.standIn.acknowledgement(cancel.id), 3000, 'the cancel');
  });

  it('queues nothing when declined', async () => {
    const { id, token } = h.standIn.sendCommand({
      name: 'scale',
      options: { direction: 'down', count: 1, service: 'declined' },
      userId: BOSS,
      roles: [ADMIN],
    });
    await h.standIn.until(() => h.standIn.acknowledgement(id), 3000, 'the question');
    const question = h.standIn.original(token)!;
    const press = h.standIn.pressButton(
      question.id,
      question.components[0].components[1].custom_id,
      { userId: BOSS, roles: [ADMIN] },
    );
    await h.standIn.until(() => h.standIn.acknowledgement(press.id), 3000, 'the press');

    expect(h.standIn.original(token)!.content).toContain('Cancelled');
    expect(h.standIn.original(token)!.components).toEqual([]);
    expect(
      await poll(async () =>
        (await audit.recent(50)).find((e) => e.command === 'scale down 1 declined'),
      ),
    ).toMatchObject({ outcome: 'cancelled' });
    expect(h.jobs.some((j) => j.command.kind === 'scale' && j.command.name === 'declined')).toBe(
      false,
    );
  });

  it('queues nothing when it expires, and a late press is told so', async () => {
    const { id, token } = h.standIn.sendCommand({
      name: 'stop',
      options: { service: 'expiring' },
      userId: BOSS,
      roles: [ADMIN],
    });
    await h.standIn.until(() => h.standIn.acknowledgement(id), 3000, 'the question');
    const question = h.standIn.original(token)!;
    const confirm = question.components[0].components[0].custom_id;

    const expired = await h.standIn.until(
      () =>
        h.standIn.original(token)!.content.includes('Not confirmed in time')
          ? h.standIn.original(token)
          : undefined,
      4000,
      'the expiry',
    );
    expect(expired.components).toEqual([]);
    expect(
      await poll(async () => (await audit.recent(50)).find((e) => e.command === 'stop expiring')),
    ).toMatchObject({ outcome: 'expired' });

    const late = h.standIn.pressButton(question.id, confirm, { userId: BOSS, roles: [ADMIN] });
    await h.standIn.until(() => h.standIn.acknowledgement(late.id), 3000, 'the late press');
    expect(callbackOf(late.id)!.body.data.content).toContain('expired');
    expect(h.jobs.some((j) => j.command.kind === 'stop' && j.command.name === 'expiring')).toBe(
      false,
    );
  });
});

describe('/audit', () => {
  it('shows admins the recent entries, privately', async () => {
    const { token } = h.standIn.sendCommand({
      name: 'audit',
      options: { count: 10 },
      userId: BOSS,
      roles: [ADMIN],
    });
    const reply = await h.standIn.until(
      () => (h.standIn.original(token)?.content ? h.standIn.original(token) : undefined),
      5000,
      'the audit',
    );
    expect(reply.flags & 64).toBe(64);
    expect(reply.content).toMatch(/\*\*(refused|succeeded|queued|expired|cancelled)\*\*/);
    expect(reply.content).toContain(`<@${STRANGER}>`);
  });

  it('is refused to everyone else', async () => {
    const { id } = h.standIn.sendCommand({ name: 'audit', userId: OPERATOR, roles: [ROLE] });
    await h.standIn.until(() => h.standIn.acknowledgement(id), 3000, 'the refusal');
    expect(callbackOf(id)!.body.data.flags & 64).toBe(64);
  });
});
