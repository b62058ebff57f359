import { describe, expect, it } from 'vitest';
import type { ServiceView } from '../../src/core/types.js';
import { renderAlerts, type Alert } from '../../src/discord/alerts.js';
import { LIMITS } from '../../src/discord/limits.js';
import {
  embedSize,
  renderProgress,
  renderResult,
  serviceTable,
  textMessage,
  type OutMessage,
} from '../../src/discord/render.js';

const service = (k: number, over: Partial<ServiceView> = {}): ServiceView => ({
  name: `svc${k}`,
  image: 'image_1',
  state: 'running',
  running: 1,
  desired: 1,
  ports: [],
  protected: true,
  replicas: [],
  ...over,
});

function expectWithinLimits(messages: OutMessage[]): void {
  for (const m of messages) {
    expect((m.content ?? '').length).toBeLessThanOrEqual(LIMITS.content);
    expect((m.embeds ?? []).length).toBeLessThanOrEqual(LIMITS.embedsPerMessage);
    expect((m.embeds ?? []).reduce((n, e) => n + embedSize(e), 0)).toBeLessThanOrEqual(
      LIMITS.embedTotal,
    );
    for (const e of m.embeds ?? []) {
      expect((e.title ?? '').length).toBeLessThanOrEqual(LIMITS.embedTitle);
      expect((e.description ?? '').length).toBeLessThanOrEqual(LIMITS.embedDescription);
      expect((e.fields ?? []).length).toBeLessThanOrEqual(LIMITS.fieldsPerEmbed);
      for (const f of e.fields ?? []) expect(f.value.length).toBeLessThanOrEqual(LIMITS.fieldValue);
    }
  }
}

describe('renderResult', () => {
  it.each([
    ['a one-line summary', { summary: 'worker1 scaled to 4 replicas' }],
    ['a summary longer than a title', { summary: 'x'.repeat(600) }],
    [
      '5,000 detail lines',
      { summary: 'recovered', details: Array.from({ length: 5000 }, (_, k) => `line ${k}`) },
    ],
    ['one enormous detail line', { summary: 'built', details: ['y'.repeat(20_000)] }],
    [
      '1,000 services',
      { summary: '1000 services', services: Array.from({ length: 1000 }, (_, k) => service(k)) },
    ],
    [
      'a service with 200 ports',
      {
        summary: '1 service',
        services: [
          service(1, {
            ports: Array.from({ length: 200 }, (_, k) => `0.0.0.0:${20000 + k}->80/tcp`),
          }),
        ],
      },
    ],
  ])('keeps %s inside Discord limits', (_what, result) => {
    expectWithinLimits(renderResult(result));
  });

  it('attaches the whole output when details do not fit, and says so', () => {
    const details = Array.from({ length: 5000 }, (_, k) => `line ${k}`);
    const [first] = renderResult({ summary: 'recovered', details });
    expect(first!.embeds![0]!.description).toContain('attached as output.txt');
    const file = first!.files!.find((f) => f.name === 'output.txt')!;
    expect(file.data.toString().trimEnd().split('\n')).toEqual(['recovered', ...details]);
  });

  it('attaches the full table when a service does not fit its field', () => {
    const ports = Array.from({ length: 200 }, (_, k) => `0.0.0.0:${20000 + k}->80/tcp`);
    const [first] = renderResult({ summary: '1 service', services: [service(1, { ports })] });
    const table = first!.files!.find((f) => f.name === 'services.txt')!.data.toString();
    for (const p of ports) expect(table).toContain(p);
  });

  it('loses no service when the list spans messages', () => {
    const messages = renderResult({
      summary: '1000 services',
      services: Array.from({ length: 1000 }, (_, k) => service(k)),
    });
    const names = messages.flatMap((m) =>
      (m.embeds ?? []).flatMap((e) => (e.fields ?? []).map((f) => f.name)),
    );
    expect(new Set(names).size).toBe(1000);
    expect(messages.length).toBeGreaterThan(1);
  });

  it('says so when nothing is managed', () => {
    const [first] = renderResult({ summary: '0 services', services: [] });
    expect(first!.embeds![0]!.footer?.text).toContain('No services');
  });
});

describe('serviceTable', () => {
  it('lines up name, image, running/desired, state, ports and protection', () => {
    const text = serviceTable([
      service(1, { ports: ['0.0.0.0:20001->80/tcp'], running: 2, desired: 3, state: 'degraded' }),
      service(22, { protected: false }),
    ]);
    expect(text.split('\n')[0]).toMatch(
      /^NAME\s+IMAGE\s+RUNNING\/DESIRED\s+STATE\s+PORTS\s+PROTECTED$/,
    );
    expect(text).toMatch(/svc1\s+image_1\s+2\/3\s+degraded\s+0\.0\.0\.0:20001->80\/tcp\s+yes/);
    expect(text).toMatch(/svc22\s+image_1\s+1\/1\s+running\s+-\s+no/);
  });
});

describe('renderProgress', () => {
  it('shows the newest lines and how many came before, within one message', () => {
    const lines = Array.from({ length: 500 }, (_, k) => `Step ${k}: ${'z'.repeat(150)}`);
    const text = renderProgress('`build install curl`', lines);
    expect(text.length).toBeLessThanOrEqual(LIMITS.content);
    expect(text).toContain('Step 499');
    expect(text).toMatch(/\(\d+ earlier lines\)/);
  });

  it('cannot be broken out of its code block by a line with backticks', () => {
    const text = renderProgress('x', ['```', 'after']);
    expect(text.match(/```/g)).toHaveLength(2);
  });
});

describe('textMessage', () => {
  it('sends short text as it is, and long text in part with the whole attached', () => {
    expect(textMessage('hello')).toEqual({ content: 'hello' });
    const long = 'w'.repeat(5000);
    const m = textMessage(long, 'help.txt');
    expect(m.content!.length).toBeLessThanOrEqual(LIMITS.content);
    expect(m.files![0]!.data.toString()).toBe(long);
  });
});

describe('renderAlerts', () => {
  const alert = (k: number, tail = 0): Alert => ({
    kind: k % 2 ? 'crashed' : 'recovered',
    service: `svc${k}`,
    container: `svc${k}-r1`,
    message: 'exited',
    exitCode: 1,
    logTail: Array.from({ length: tail }, (_, n) => `log ${n} ${'q'.repeat(300)}`),
    at: '2025-01-01T00:00:00.000Z',
  });

  it('puts ten alerts in one message', () => {
    const messages = renderAlerts(Array.from({ length: 10 }, (_, k) => alert(k)));
    expect(messages).toHaveLength(1);
    expect(messages[0]!.embeds).toHaveLength(10);
  });

  it('splits only where the limits require it, even with long log tails', () => {
    const messages = renderAlerts(Array.from({ length: 10 }, (_, k) => alert(k, 40)));
    expectWithinLimits(messages);
    expect(messages.flatMap((m) => m.embeds ?? [])).toHaveLength(10);
  });
});
