import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { alertsKey, type Alert } from '../discord/alerts.js';

/**
 * Calls `onAlert` for every alert published from now on, for the console. It reads the stream
 * without a consumer group, so the bot's delivery is untouched, on a connection of its own
 * (a duplicate of `redis`), since it blocks while waiting.
 */
export function followAlerts(
  redis: Redis,
  prefix: string,
  onAlert: (alert: Alert) => void,
): { stop(): Promise<void> } {
  const conn = redis.duplicate();
  conn.on('error', () => undefined);
  let stopped = false;

  const loop = async () => {
    let last = '$';
    while (!stopped) {
      try {
        const reply = (await conn.xread('BLOCK', 2000, 'STREAMS', alertsKey(prefix), last)) as
          [string, [string, string[]][]][] | null;
        for (const [id, fields] of reply?.[0]?.[1] ?? []) {
          last = id;
          const at = fields.indexOf('alert');
          if (at < 0) continue;
          try {
            onAlert(JSON.parse(fields[at + 1]!) as Alert);
          } catch {
            // Not an alert this version can read; skip it.
          }
        }
      } catch {
        if (!stopped) await sleep(1000);
      }
    }
  };
  const running = loop();
  return {
    async stop() {
      stopped = true;
      conn.disconnect();
      await running;
    },
  };
}
