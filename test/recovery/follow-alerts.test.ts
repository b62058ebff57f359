import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { redisOptions } from '../../src/core/redis.js';
import { publishAlert, type Alert } from '../../src/discord/alerts.js';
import { alertText } from '../../src/recovery/alert-text.js';
import { followAlerts } from '../../src/recovery/follow-alerts.js';

const alert = (container: string, o: Partial<Alert> = {}): Alert => ({
  kind: 'recovered',
  service: 'web',
  container,
  message: `${container} died (exit code 137) and was restarted; it is running again.`,
  exitCode: 137,
  oom: false,
  downMs: 420,
  logTail: ['listening on 80', 'Killed'],
  at: '2026-01-01T00:00:00.000Z',
  ...o,
});

describe('alerts at the console', () => {
  const redis = new Redis(redisOptions(inject('redisUrl')));
  afterAll(() => redis.disconnect());

  it('prints each alert published after it started following, in order', async () => {
    const prefix = `t-alerts-${randomBytes(3).toString('hex')}`;
    await publishAlert(redis, prefix, alert('old'));
    const seen: string[] = [];
    const follower = followAlerts(redis, prefix, (a) => seen.push(a.container));
    // Give the blocking read time to start before publishing: alerts from before are not replayed.
    await new Promise((r) => setTimeout(r, 200));
    await publishAlert(redis, prefix, alert('web-r2'));
    await publishAlert(redis, prefix, alert('web-r3'));
    for (let i = 0; i < 50 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    await follower.stop();
    expect(seen).toEqual(['web-r2', 'web-r3']);
  });

  it.each([
    [
      alert('web-r2'),
      /^\[alert\] recovered web-r2: web-r2 died .* \(exit 137, down 0\.4 s\)\n\s+last log line: Killed$/,
    ],
    [
      alert('web', { kind: 'crash-looping', oom: true, downMs: undefined, logTail: [] }),
      /^\[alert\] CRASH-LOOPING web: .* \(exit 137, OOM\)$/,
    ],
    [
      alert('web', {
        kind: 'recovery-failed',
        message: 'Deckhand could not restart web: no such image',
        exitCode: undefined,
        oom: undefined,
        downMs: undefined,
        logTail: undefined,
      }),
      /^\[alert\] RECOVERY FAILED web: Deckhand could not restart web: no such image$/,
    ],
  ])('renders %o as one line with its facts', (a, pattern) => {
    expect(alertText(a)).toMatch(pattern);
  });
});
