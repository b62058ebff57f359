import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { textMessage, type OutMessage } from './render.js';

/** What became of a command at the edge or afterwards. */
export type AuditOutcome =
  | 'refused'
  | 'invalid'
  | 'cancelled'
  | 'expired'
  | 'unavailable'
  | 'queued'
  | 'answered'
  | 'succeeded'
  | 'failed';

/** One line of the audit log: who, where, what, outcome, and the job it became, if any. */
export interface AuditEntry {
  at: string;
  userId: string;
  userName?: string;
  guildId?: string;
  channelId?: string;
  command: string;
  outcome: AuditOutcome;
  jobId?: string;
  detail?: string;
}

/** The Redis stream the audit log lives in, next to the queue's keys. */
export function auditKey(prefix: string): string {
  return `${prefix}:audit`;
}

/** Appends to and reads the audit stream; writing never blocks or breaks a reply. */
export class AuditLog {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly maxEntries: number,
    private readonly log: Logger,
    private readonly writeTimeoutMs = 5000,
  ) {}

  /** Writes one entry, capped at about maxEntries; a failure is logged with the entry, not thrown. */
  async record(entry: Omit<AuditEntry, 'at'>): Promise<void> {
    const full: AuditEntry = { at: new Date().toISOString(), ...entry };
    const fields = Object.entries(full).flatMap(([k, v]) =>
      v === undefined ? [] : [k, String(v)],
    );
    const write = this.redis.xadd(
      auditKey(this.prefix),
      'MAXLEN',
      '~',
      this.maxEntries,
      '*',
      ...fields,
    );

    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>(
      (r) => (timer = setTimeout(() => r('late'), this.writeTimeoutMs)),
    );
    try {
      const done = await Promise.race([write, late]);
      if (done === 'late') this.log.warn({ audit: full }, 'audit write is slow; it stays queued');
    } catch (err) {
      this.log.error(
        { err, audit: full },
        'audit write failed; the entry is only in this log line',
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /** The newest entries, newest first. */
  async recent(limit: number): Promise<(AuditEntry & { id: string })[]> {
    const rows = await this.redis.xrevrange(auditKey(this.prefix), '+', '-', 'COUNT', limit);
    return rows.map(([id, flat]) => {
      const entry: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) entry[flat[i]!] = flat[i + 1]!;
      return { id, ...(entry as unknown as AuditEntry) };
    });
  }
}

/** The audit entries as an ephemeral reply: one line each, newest first. */
export function renderAudit(entries: AuditEntry[]): OutMessage {
  if (entries.length === 0) return { content: 'The audit log is empty.' };
  const lines = entries.map((e) => {
    const when = `<t:${Math.floor(Date.parse(e.at) / 1000)}:R>`;
    const where = e.channelId ? ` in <#${e.channelId}>` : '';
    const job = e.jobId ? ` · job \`${e.jobId}\`` : '';
    const detail = e.detail ? ` · ${e.detail}` : '';
    return `${when} <@${e.userId}>${where} · \`${e.command.replaceAll('`', "'")}\` · **${e.outcome}**${job}${detail}`;
  });
  return textMessage(lines.join('\n'), 'audit.txt');
}
