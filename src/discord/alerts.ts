import type { APIEmbed } from 'discord.js';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { packEmbeds, type OutMessage } from './render.js';

/** Something recovery wants the team to know about one container. */
export interface Alert {
  kind: 'crashed' | 'recovered' | 'crash-looping' | 'recovery-failed';
  service: string;
  container: string;
  message: string;
  exitCode?: number;
  oom?: boolean;
  downMs?: number;
  logTail?: string[];
  /** ISO time the event happened. */
  at: string;
}

/** An alert as read from the stream, with the id it is acknowledged by. */
export interface ReadAlert {
  id: string;
  alert: Alert;
}

/** The Redis stream alerts travel on, next to the queue's keys. */
export function alertsKey(prefix: string): string {
  return `${prefix}:alerts`;
}

/** Publishes one alert; it waits in the stream until the bot has posted it, however long that takes. */
export async function publishAlert(
  redis: Redis,
  prefix: string,
  alert: Alert,
  maxLen = 10_000,
): Promise<string> {
  const id = await redis.xadd(
    alertsKey(prefix),
    'MAXLEN',
    '~',
    maxLen,
    '*',
    'alert',
    JSON.stringify(alert),
  );
  return id ?? '';
}

export interface ReadOptions {
  group: string;
  consumer: string;
  count: number;
  /** Blocks up to this long for new alerts; without it, returns at once. */
  blockMs?: number;
  /** Read this consumer's delivered but unacknowledged alerts instead of new ones. */
  pending?: boolean;
}

/** Creates the consumer group from the stream's start, so alerts sent before the bot first ran count. */
export async function ensureAlertGroup(redis: Redis, prefix: string, group: string): Promise<void> {
  try {
    await redis.xgroup('CREATE', alertsKey(prefix), group, '0', 'MKSTREAM');
  } catch (err) {
    if (!String((err as Error).message).startsWith('BUSYGROUP')) throw err;
  }
}

/** Reads alerts for a consumer of the group; entries that are not alerts come back as null alerts. */
export async function readAlerts(
  redis: Redis,
  prefix: string,
  o: ReadOptions,
): Promise<{ id: string; alert: Alert | null }[]> {
  const block = o.blockMs !== undefined && !o.pending ? ['BLOCK', o.blockMs] : [];
  const args = [
    'GROUP',
    o.group,
    o.consumer,
    'COUNT',
    o.count,
    ...block,
    'STREAMS',
    alertsKey(prefix),
  ];
  const reply = (await redis.call('XREADGROUP', ...args, o.pending ? '0' : '>')) as
    [string, [string, string[] | null][]][] | null;

  const entries = reply?.[0]?.[1] ?? [];
  return entries.map(([id, fields]) => ({ id, alert: parseAlert(fields) }));
}

/** Marks alerts as delivered so no consumer reads them again. */
export async function ackAlerts(
  redis: Redis,
  prefix: string,
  group: string,
  ids: string[],
): Promise<void> {
  if (ids.length > 0) await redis.xack(alertsKey(prefix), group, ...ids);
}

function parseAlert(fields: string[] | null): Alert | null {
  const i = fields?.indexOf('alert') ?? -1;
  if (!fields || i < 0 || i + 1 >= fields.length) return null;
  try {
    const a = JSON.parse(fields[i + 1]!) as Alert;
    return typeof a.service === 'string' && typeof a.kind === 'string' ? a : null;
  } catch {
    return null;
  }
}

const look: Record<Alert['kind'], { mark: string; verb: string; color: number }> = {
  crashed: { mark: '🔴', verb: 'crashed', color: 0xc0392b },
  recovered: { mark: '🟢', verb: 'recovered', color: 0x2e8b57 },
  'crash-looping': {
    mark: '🛑',
    verb: 'is crash-looping; Deckhand stopped restarting it',
    color: 0x8b0000,
  },
  'recovery-failed': { mark: '⚠️', verb: 'could not be recovered', color: 0xd4a017 },
};

/** One embed per alert, the log tail shorter when several share a message. */
export function alertEmbed(alert: Alert, crowded: boolean): APIEmbed {
  const l = look[alert.kind] ?? look.crashed;
  const facts = [
    alert.exitCode !== undefined ? `exit code ${alert.exitCode}` : '',
    alert.oom ? 'killed for lack of memory (OOM)' : '',
    alert.downMs !== undefined ? `down for ${formatDuration(alert.downMs)}` : '',
  ].filter(Boolean);

  let description = `${alert.message}`.slice(0, 1500);
  if (facts.length > 0) description += `\n${facts.join(' · ')}`;

  const tail = alert.logTail ?? [];
  const keep = crowded ? 5 : 15;
  const width = crowded ? 120 : 200;
  if (tail.length > 0) {
    const shown = tail.slice(-keep).map((line) => line.slice(0, width).replaceAll('```', "'''"));
    const earlier = tail.length > keep ? `(last ${keep} of ${tail.length} log lines)\n` : '';
    description += `\n${earlier}\`\`\`\n${shown.join('\n')}\n\`\`\``;
  }

  const title = `${l.mark} ${alert.service} ${l.verb}`.slice(0, 256);
  const container = alert.container !== alert.service ? `container ${alert.container} · ` : '';
  return {
    title,
    description,
    color: l.color,
    footer: { text: `${container}${alert.at}`.slice(0, 2048) },
  };
}

/** A group of alerts as messages: normally one, split only where Discord's limits require it. */
export function renderAlerts(alerts: Alert[]): OutMessage[] {
  const crowded = alerts.length > 1;
  return packEmbeds(alerts.map((a) => alertEmbed(a, crowded)));
}

function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}
