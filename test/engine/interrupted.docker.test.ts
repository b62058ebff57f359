import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { JobFailedError } from '../../src/jobs/failure.js';
import { eventually, startTestEngine, type TestEngine } from '../support/engine.js';

// Container names are engine-wide: unique ones keep this file clear of anyone else's.
const base = `base-${Math.random().toString(36).slice(2, 7)}`;

const bin = path.resolve('src/bin.mjs');

// A worker in its own process, so the test can kill it the way a crash or a rollout would.
function spawnWorker(engine: TestEngine, env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, [bin, 'worker'], {
    env: {
      ...process.env,
      REDIS_URL: inject('redisUrl'),
      DECKHAND_INSTANCE: engine.config.DECKHAND_INSTANCE,
      PROXY_PORT_RANGE: engine.config.PROXY_PORT_RANGE.join('-'),
      PUBLISH_HOST_IP: engine.config.PUBLISH_HOST_IP,
      STOP_TIMEOUT_S: '2',
      JOB_LOCK_MS: '3000',
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return child;
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) =>
    child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code)),
  );

describe('a worker interrupted in the middle of a command', () => {
  let engine: TestEngine;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    engine = await startTestEngine();
    await engine.ok(`run -itd -p 80 --name ${base} nginx:alpine`);
    await engine.stopWorker();
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await engine?.close();
  });

  it(`converges on base+2 replicas when the worker is killed after the first new replica appears`, async () => {
    const events = await engine.docker.getEvents({
      filters: {
        type: ['container'],
        event: ['create'],
        label: [`deckhand.instance=${engine.config.DECKHAND_INSTANCE}`],
      },
    });
    const first = children[children.push(spawnWorker(engine)) - 1]!;
    const sawReplica = new Promise<void>((resolve) => {
      events.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes(`${base}-r`)) resolve();
      });
    });

    const jobId = await engine.queue.submit({
      command: { kind: 'scale', direction: 'up', count: 2, name: base },
      requester: { source: 'console' },
      text: `scale up 2 ${base}`,
    });
    await sawReplica;
    first.kill('SIGKILL');
    (events as unknown as { destroy(): void }).destroy();
    await exited(first);

    children.push(spawnWorker(engine));
    const result = await engine.queue.wait(jobId, { timeoutMs: 120_000 });
    expect(result.summary).toMatch(/3 replicas/);

    const replicas = await engine.docker.listContainers({
      all: true,
      filters: {
        label: [`deckhand.instance=${engine.config.DECKHAND_INSTANCE}`, `deckhand.service=${base}`],
      },
    });
    expect(replicas).toHaveLength(3);
    expect(replicas.every((c) => c.State === 'running')).toBe(true);
    const counts = await engine.queue.queue.getJobCounts('active', 'waiting', 'completed');
    expect(counts.active).toBe(0);
  });

  it('on SIGTERM during a build takes no new work, fails the build cleanly, replies and exits 0', async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    // A base image with a fresh id, so the engine's build cache cannot finish the build at once.
    const seed = await engine.docker.createContainer({
      Image: 'debian:bookworm-slim',
      Cmd: ['true'],
    });
    const freshBase = `deckhand-test-base:${engine.config.DECKHAND_INSTANCE}`;
    await seed.commit({
      repo: 'deckhand-test-base',
      tag: engine.config.DECKHAND_INSTANCE,
      changes: [`LABEL deckhand.instance=${engine.config.DECKHAND_INSTANCE}`],
    });
    await seed.remove({ force: true });
    const worker = spawnWorker(engine, { SHUTDOWN_GRACE_MS: '1500', BASE_IMAGE: freshBase });
    children.push(worker);

    const progress: string[] = [];
    const jobId = await engine.queue.submit({
      command: { kind: 'build', build: { variant: 'install', pkg: 'curl' } },
      requester: { source: 'console' },
      text: 'build install curl',
    });
    const outcome = engine.queue
      .wait(jobId, { timeoutMs: 120_000, onProgress: (line) => progress.push(line) })
      .then(
        (r) => ({ ok: true as const, r }),
        (e: unknown) => ({ ok: false as const, e }),
      );
    await eventually(
      async () => (progress.some((l) => /step/i.test(l)) ? true : undefined),
      60_000,
    );
    worker.kill('SIGTERM');
    expect(await exited(worker)).toBe(0);

    const result = await outcome;
    expect(result.ok).toBe(false);
    expect(result.ok === false && result.e instanceof JobFailedError && result.e.failure.kind).toBe(
      'user',
    );
    expect(String(result.ok === false && (result.e as Error).message)).toMatch(/interrupted/);

    // A fresh worker finds nothing stuck and does not build again.
    const next = spawnWorker(engine);
    children.push(next);
    await new Promise((r) => setTimeout(r, 4000));
    const counts = await engine.queue.queue.getJobCounts('active', 'waiting', 'delayed', 'failed');
    expect((counts.active ?? 0) + (counts.waiting ?? 0) + (counts.delayed ?? 0)).toBe(0);
    const job = await engine.queue.queue.getJob(jobId);
    expect(job?.attemptsMade).toBe(1);
    next.kill('SIGTERM');
    expect(await exited(next)).toBe(0);
  });
});
