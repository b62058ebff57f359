import { startHarness, type HarnessOptions } from './harness.js';

/** Percentiles of a set of durations, in milliseconds. */
export interface Spread {
  p50: number;
  p99: number;
  max: number;
}

/** What the Discord front end costs, measured through the stand-in with the real discord.js client. */
export interface DiscordBench {
  runs: number;
  /** From the interaction being sent to the bot's acknowledgement reaching Discord. */
  ackMs: Spread;
  /** From the interaction being sent to the final `list` reply reaching Discord. */
  listMs: Spread;
}

function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? NaN };
}

/**
 * Sends `/list` `runs` times, one after another, and measures acknowledgement and final reply.
 * With `noWorker` and the prefix of a running real worker, it measures against the real engine;
 * otherwise the front-end test worker answers, which measures the bot and the queue alone.
 */
export async function benchDiscord(o: HarnessOptions & { runs?: number }): Promise<DiscordBench> {
  const h = await startHarness(o);
  const runs = o.runs ?? 100;
  const ack: number[] = [];
  const list: number[] = [];

  try {
    for (let k = 0; k < runs; k++) {
      const sentAt = Date.now();
      const { id, token } = h.standIn.sendCommand({
        name: 'list',
        userId: `1000000000000${String(k).padStart(5, '0')}`,
      });
      const acked = await h.standIn.until(
        () => h.standIn.acknowledgement(id),
        3000,
        'the acknowledgement',
      );
      await h.standIn.until(
        () => (h.standIn.original(token)?.embeds.length ? true : undefined),
        30_000,
        'the list',
      );
      const final = h.standIn.requests.find(
        (r) => r.path.includes(token) && r.body?.embeds?.length > 0,
      )!;
      ack.push(acked.at - sentAt);
      list.push(final.at - sentAt);
    }
  } finally {
    await h.stop();
  }
  return { runs, ackMs: spread(ack), listMs: spread(list) };
}
