import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/core/redis.js';
import { AuditLog, auditKey, renderAudit } from '../../src/discord/audit.js';

const prefix = `t-audit-${randomBytes(4).toString('hex')}`;
let redis: Redis;
const lines: string[] = [];
const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });

beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});
afterAll(async () => {
  await redis.del(auditKey(prefix));
  redis.disconnect();
});

describe('the audit log', () => {
  it('keeps who, where, what, outcome and job id, newest first', async () => {
    const audit = new AuditLog(redis, prefix, 1000, log);
    await audit.record({
      userId: '1001',
      channelId: '2002',
      guildId: '3003',
      command: 'list',
      outcome: 'queued',
      jobId: 'job-1',
    });
    await audit.record({
      userId: '1001',
      command: 'quit',
      outcome: 'refused',
      detail: 'not an admin',
    });

    const [newest, older] = await audit.recent(2);
    expect(newest).toMatchObject({
      userId: '1001',
      command: 'quit',
      outcome: 'refused',
      detail: 'not an admin',
    });
    expect(older).toMatchObject({
      userId: '1001',
      channelId: '2002',
      guildId: '3003',
      command: 'list',
      outcome: 'queued',
      jobId: 'job-1',
    });
    expect(Date.parse(older!.at)).toBeGreaterThan(0);
  });

  it('stays near its cap', async () => {
    const audit = new AuditLog(redis, prefix, 100, log);
    for (let k = 0; k < 400; k++)
      await audit.record({ userId: '1', command: `c${k}`, outcome: 'answered' });
    // Trimming is approximate (whole nodes of the stream), so allow one node's slack.
    expect(await redis.xlen(auditKey(prefix))).toBeLessThanOrEqual(200);
  });

  it('never throws or blocks a reply when Redis is gone; the entry is in the log line instead', async () => {
    const port = await freePort();
    const gone = new Redis({
      port,
      host: '127.0.0.1',
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      lazyConnect: true,
    });
    gone.on('error', () => undefined);
    const audit = new AuditLog(gone, prefix, 100, log, 500);
    await audit.record({ userId: '42', command: 'stop web', outcome: 'queued' });
    expect(lines.some((l) => l.includes('audit write failed') && l.includes('stop web'))).toBe(
      true,
    );
    gone.disconnect();
  });

  it('renders entries with mentions, the command and the outcome', () => {
    const m = renderAudit([
      {
        at: '2025-01-01T00:00:00.000Z',
        userId: '7',
        channelId: '8',
        command: 'scale up 3 web',
        outcome: 'succeeded',
        jobId: 'j',
      },
    ]);
    expect(m.content).toBe(
      '<t:1735689600:R> <@7> in <#8> · `scale up 3 web` · **succeeded** · job `j`',
    );
  });
});
