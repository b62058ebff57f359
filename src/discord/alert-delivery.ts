import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ackAlerts, ensureAlertGroup, readAlerts, renderAlerts, type Alert } from './alerts.js';
import type { OutMessage } from './render.js';

export interface AlertDeliveryOptions {
  /** A connection of its own: the delivery blocks on it while waiting for alerts. */
  redis: Redis;
  prefix: string;
  /** Sends one message to the alert channel; throwing leaves the alerts unacknowledged. */
  post(message: OutMessage): Promise<void>;
  log: Logger;
  group?: string;
  consumer?: string;
  /** How long to keep collecting once one alert arrived, so a burst becomes one message. */
  groupWindowMs?: number;
  /** Alerts per message at most (Discord allows 10 embeds). */
  maxPerMessage?: number;
  /** Least time between two posts: Discord allows about 5 messages per 5 s in a channel. */
  minIntervalMs?: number;
  /** Alerts older than this when read are logged and acknowledged, not posted (stale news). */
  maxAgeMs?: number;
}

/**
 * Posts alerts from the stream to the alert channel: grouped, paced, and acknowledged only once
 * posted, so alerts sent while the bot is away or Discord refuses are posted when it can.
 */
export function startAlertDelivery(o: AlertDeliveryOptions): { stop(): Promise<void> } {
  const group = o.group ?? 'discord';
  const consumer = o.consumer ?? 'bot';
  const windowMs = o.groupWindowMs ?? 1000;
  const perMessage = Math.min(o.maxPerMessage ?? 10, 10);
  const minIntervalMs = o.minIntervalMs ?? 1100;
  const maxAgeMs = o.maxAgeMs ?? 24 * 3600_000;
  const log = o.log.child({ component: 'alerts' });

  let stopped = false;
  const abort = new AbortController();
  const pause = (ms: number) =>
    sleep(ms, undefined, { signal: abort.signal }).catch(() => undefined);
  let lastPost = 0;
  let failures = 0;

  const read = (pending: boolean, count: number, blockMs?: number) =>
    readAlerts(o.redis, o.prefix, { group, consumer, count, pending, blockMs });

  /** Posts a batch in messages of up to perMessage alerts, acknowledging each message's alerts. */
  async function deliver(batch: { id: string; alert: Alert | null }[]): Promise<void> {
    const now = Date.now();
    const skip = batch.filter((b) => !b.alert || now - Date.parse(b.alert.at) > maxAgeMs);
    if (skip.length > 0) {
      log.warn(
        { skipped: skip.length },
        'acknowledged alerts without posting them: unreadable or too old',
      );
      await ackAlerts(
        o.redis,
        o.prefix,
        group,
        skip.map((b) => b.id),
      );
    }

    const fresh = batch.filter((b) => !skip.includes(b));
    for (let i = 0; i < fresh.length; i += perMessage) {
      const chunk = fresh.slice(i, i + perMessage);
      for (const message of renderAlerts(chunk.map((b) => b.alert as Alert))) {
        const wait = lastPost + minIntervalMs - Date.now();
        if (wait > 0) await pause(wait);
        if (stopped) throw new Error('alert delivery stopped');
        await o.post(message);
        lastPost = Date.now();
      }
      await ackAlerts(
        o.redis,
        o.prefix,
        group,
        chunk.map((b) => b.id),
      );
      log.info(
        { alerts: chunk.length, services: [...new Set(chunk.map((b) => b.alert?.service))] },
        'alerts posted',
      );
    }
  }

  async function loop(): Promise<void> {
    // Start with what this consumer read before but never acknowledged (a crash mid-post).
    let pending = true;

    while (!stopped) {
      try {
        if (pending) await ensureAlertGroup(o.redis, o.prefix, group);
        const batch = await read(pending, 100, pending ? undefined : 2000);
        if (batch.length === 0) {
          pending = false;
          continue;
        }

        if (!pending) {
          const until = Date.now() + windowMs;
          while (!stopped && batch.length < 100 && Date.now() < until) {
            batch.push(...(await read(false, 100 - batch.length, Math.max(1, until - Date.now()))));
          }
        }

        await deliver(batch);
        failures = 0;
      } catch (err) {
        if (stopped) break;
        failures++;
        const backoff = Math.min(60_000, 1000 * 2 ** Math.min(failures - 1, 6));
        log.error(
          { err, backoffMs: backoff },
          'alert delivery failed; the alerts stay in the stream and are retried',
        );
        pending = true;
        await pause(backoff);
      }
    }
  }

  const running = loop();
  return {
    async stop() {
      stopped = true;
      abort.abort();
      o.redis.disconnect();
      await running;
    },
  };
}
