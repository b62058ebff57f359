import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/core/redis.js';
import { redisCheck } from '../../src/ops/checks.js';
import { startOpsServer, type OpsServer } from '../../src/ops/http.js';
import {
  commandsTotal,
  jobDuration,
  proxyReloadsTotal,
  setContainerStateSource,
  setQueueDepthSource,
} from '../../src/ops/metrics.js';

const log = pino({ level: 'silent' });

/** Reads one sample's value out of Prometheus text, or undefined when it is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('ops endpoint', () => {
  let live: Redis;
  let dead: Redis;
  let server: OpsServer | undefined;
  const url = (path: string) => `http://127.0.0.1:${server!.port}${path}`;

  beforeAll(async () => {
    live = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    await live.ping();
    dead = new Redis({
      port: await freePort(),
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: null,
    });
    dead.on('error', () => undefined);
    dead.connect().catch(() => undefined);
  });

  afterAll(async () => {
    await server?.close();
    setQueueDepthSource(undefined);
    setContainerStateSource(undefined);
    live.disconnect();
    dead.disconnect();
  });

  describe('/healthz', () => {
    it('answers 200 with every check when all pass', async () => {
      server = await startOpsServer({
        port: 0,
        host: '127.0.0.1',
        log,
        checks: { redis: redisCheck(live) },
      });

      const res = await fetch(url('/healthz'));
      const body = await res.json();

      expect(res.status).toBe(200);
      expect(body).toEqual({ ok: true, failing: [], checks: { redis: { ok: true } } });
      await server.close();
      server = undefined;
    });

    it('answers 503 naming the failing checks, and bounds a check that hangs', async () => {
      server = await startOpsServer({
        port: 0,
        host: '127.0.0.1',
        log,
        checkTimeoutMs: 300,
        checks: {
          redis: redisCheck(live),
          queue: redisCheck(dead),
          docker: () => new Promise(() => undefined),
          gateway: async () => {
            throw Object.assign(new Error('connect refused'), { code: 'ECONNREFUSED' });
          },
        },
      });

      const res = await fetch(url('/healthz'));
      const body = await res.json();

      expect(res.status).toBe(503);
      expect(body.failing.sort()).toEqual(['docker', 'gateway', 'queue']);
      expect(body.checks.redis).toEqual({ ok: true });
      expect(body.checks.queue.detail).toMatch(
        /redis connection is (connecting|reconnecting|close|end)/,
      );
      expect(body.checks.docker.detail).toBe('no answer within 300 ms');
      expect(body.checks.gateway.detail).toBe('ECONNREFUSED: connect refused');
    });

    it('answers 404 elsewhere and 405 to other methods', async () => {
      expect((await fetch(url('/'))).status).toBe(404);
      expect((await fetch(url('/healthz'), { method: 'POST' })).status).toBe(405);
    });
  });

  describe('/metrics', () => {
    it('reports the counts recorded since start and the gauges read at scrape time', async () => {
      const before = await (await fetch(url('/metrics'))).text();
      const okBefore = sample(before, 'deckhand_commands_total{command="scale",outcome="ok"}') ?? 0;

      commandsTotal.inc({ command: 'scale', outcome: 'ok' });
      commandsTotal.inc({ command: 'scale', outcome: 'ok' });
      commandsTotal.inc({ command: 'run', outcome: 'refused' });
      jobDuration.observe({ command: 'scale' }, 0.3);
      proxyReloadsTotal.inc({ outcome: 'rejected' });
      setQueueDepthSource(async () => ({ waiting: 3, active: 1 }));
      setContainerStateSource(async () => ({ running: 4, exited: 1 }));

      const res = await fetch(url('/metrics'));
      const text = await res.text();

      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(sample(text, 'deckhand_commands_total{command="scale",outcome="ok"}')).toBe(
        okBefore + 2,
      );
      expect(
        sample(text, 'deckhand_commands_total{command="run",outcome="refused"}'),
      ).toBeGreaterThanOrEqual(1);
      expect(
        sample(text, 'deckhand_job_duration_seconds_bucket{le="0.5",command="scale"}'),
      ).toBeGreaterThanOrEqual(1);
      expect(
        sample(text, 'deckhand_proxy_reloads_total{outcome="rejected"}'),
      ).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'deckhand_queue_jobs{state="waiting"}')).toBe(3);
      expect(sample(text, 'deckhand_managed_containers{state="running"}')).toBe(4);
      expect(sample(text, 'deckhand_managed_containers{state="exited"}')).toBe(1);
      expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    });

    it('still answers when a gauge source fails, counting the failure', async () => {
      setQueueDepthSource(async () => ({ waiting: 7 }));
      setContainerStateSource(() => Promise.reject(new Error('engine away')));

      const first = await fetch(url('/metrics'));
      const text = await first.text();
      // Sources are read while the scrape is assembled, so a failure is counted in the next one.
      const next = await (await fetch(url('/metrics'))).text();

      expect(first.status).toBe(200);
      expect(sample(text, 'deckhand_queue_jobs{state="waiting"}')).toBe(7);
      expect(sample(text, 'deckhand_managed_containers{state="running"}')).toBeUndefined();
      expect(
        sample(next, 'deckhand_scrape_errors_total{source="container states"}'),
      ).toBeGreaterThanOrEqual(1);
    });
  });
});
