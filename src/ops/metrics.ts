import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** How a command ended, as counted in `deckhand_commands_total`. */
export type CommandOutcome = 'ok' | 'user_error' | 'internal_error' | 'refused' | 'rate_limited';

/** Counts by state (for example BullMQ's `getJobCounts()` or containers by Docker state). */
export type StateCounts = Record<string, number>;

/** Every Deckhand metric and the process defaults, served at `/metrics`. */
export const registry = new Registry();

collectDefaultMetrics({ register: registry });

let queueDepthSource: (() => Promise<StateCounts>) | undefined;
let containerStateSource: (() => Promise<StateCounts>) | undefined;

/** Commands by verb (`build`, `run`, `scale`, …, never the full text) and outcome. */
export const commandsTotal = new Counter({
  name: 'deckhand_commands_total',
  help: 'Commands received, by command verb and outcome.',
  labelNames: ['command', 'outcome'] as const,
  registers: [registry],
});

/** Seconds from a job being taken by the worker to its result, by command verb. */
export const jobDuration = new Histogram({
  name: 'deckhand_job_duration_seconds',
  help: 'Time the worker spent on a job, by command verb.',
  labelNames: ['command'] as const,
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900],
  registers: [registry],
});

/** Jobs in the command queue by state, read from the queue each time Prometheus scrapes. */
export const queueDepth = new Gauge({
  name: 'deckhand_queue_jobs',
  help: 'Jobs in the command queue, by state (waiting, active, delayed, ...).',
  labelNames: ['state'] as const,
  registers: [registry],
  async collect() {
    await fillFrom(this, queueDepthSource, 'queue depth');
  },
});

/** Recovery actions by outcome (`restarted`, `recreated`, `failed`, `gave_up`, ...). */
export const recoveriesTotal = new Counter({
  name: 'deckhand_recoveries_total',
  help: 'Recovery actions taken on crashed containers, by outcome.',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

/** Times a container was marked crash-looping and left stopped until someone starts it. */
export const crashLoops = new Counter({
  name: 'deckhand_crash_loops_total',
  help: 'Containers marked as crash-looping (recovery gave up until the next start).',
  registers: [registry],
});

/** Containers Deckhand manages, by Docker state, read from the engine on each scrape. */
export const managedContainers = new Gauge({
  name: 'deckhand_managed_containers',
  help: 'Containers Deckhand manages, by state (running, exited, ...).',
  labelNames: ['state'] as const,
  registers: [registry],
  async collect() {
    await fillFrom(this, containerStateSource, 'container states');
  },
});

/** Proxy configuration reloads by outcome (`ok`, `rejected`, `failed`, `unchanged`). */
export const proxyReloadsTotal = new Counter({
  name: 'deckhand_proxy_reloads_total',
  help: 'nginx proxy reloads, by outcome.',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

/** Scrapes in which a gauge's source failed; that gauge is empty then (counted in the next scrape). */
export const scrapeErrorsTotal = new Counter({
  name: 'deckhand_scrape_errors_total',
  help: 'Scrapes in which a gauge source failed, by source.',
  labelNames: ['source'] as const,
  registers: [registry],
});

/** Sets where `deckhand_queue_jobs` is read on each scrape (for example BullMQ's getJobCounts). */
export function setQueueDepthSource(fn: (() => Promise<StateCounts>) | undefined): void {
  queueDepthSource = fn;
}

/** Sets where `deckhand_managed_containers` is read on each scrape (counts by Docker state). */
export function setContainerStateSource(fn: (() => Promise<StateCounts>) | undefined): void {
  containerStateSource = fn;
}

async function fillFrom(
  gauge: Gauge<'state'>,
  source: (() => Promise<StateCounts>) | undefined,
  what: string,
): Promise<void> {
  gauge.reset();
  if (!source) return;

  // A scrape must still answer when Redis or the engine is away; the failure shows as a counter.
  try {
    const counts = await source();
    for (const [state, count] of Object.entries(counts)) gauge.set({ state }, count);
  } catch {
    scrapeErrorsTotal.inc({ source: what });
  }
}
