import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisOptions } from '../../src/core/redis.js';
import type { CommandJob } from '../../src/core/types.js';
import { CommandQueue } from '../../src/jobs/queue.js';
import {
  composeCli,
  containerIp,
  nodeBaseImage,
  redisImage,
  removeInstance,
  repoRoot,
  serviceContainer,
  sh,
  until,
} from './deploy-support.js';

const docker = new Dockerode();
const instance = `t-${randomBytes(4).toString('hex')}`;
const project = `deckhand-${instance}`;
const image = `deckhand-${instance}:test`;
const depsImage = `deckhand-${instance}:deps`;

/** Reads one sample's value out of Prometheus text, or undefined when it is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const job = (command: CommandJob['command'], text: string): CommandJob => ({
  command,
  text,
  requester: { source: 'console', userName: 'compose-test' },
});

describe('docker compose deploy', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'deckhand-compose-'));
  let compose: (...args: string[]) => Promise<string>;
  let queue: CommandQueue | undefined;
  let workerUrl: string;

  beforeAll(async () => {
    const cli = await composeCli();
    const nodeImage = await nodeBaseImage();
    const redis = await redisImage();
    // The deps stage gets a tag of its own so that afterAll can remove it: untagged it would stay
    // behind as a dangling image.
    const build = ['build', '--quiet', '--force-rm', '--build-arg', `NODE_IMAGE=${nodeImage}`];
    await sh('docker', [...build, '--target', 'deps', '--tag', depsImage, '.'], { cwd: repoRoot });
    await sh('docker', [...build, '--tag', image, '.'], { cwd: repoRoot });

    // The shipped compose file, run from a folder of its own so the test's .env stays out of the
    // checkout; the image was built above, so `build:` is not used.
    cpSync(path.join(repoRoot, 'docker-compose.yml'), path.join(dir, 'docker-compose.yml'));
    cpSync(path.join(repoRoot, 'myimages'), path.join(dir, 'myimages'), { recursive: true });
    writeFileSync(
      path.join(dir, '.env'),
      [
        `COMPOSE_PROJECT_NAME=${project}`,
        `DOCKER_GID=${statSync('/var/run/docker.sock').gid}`,
        `DECKHAND_INSTANCE=${instance}`,
        'SHUTDOWN_GRACE_MS=20000',
        'LOG_LEVEL=info',
        '',
      ].join('\n'),
    );

    const env: NodeJS.ProcessEnv = { ...process.env, DECKHAND_IMAGE: image, REDIS_IMAGE: redis };
    for (const key of [
      'REDIS_URL',
      'HTTP_PORT',
      'NODE_IMAGE',
      'DOCKER_GID',
      'COMPOSE_PROJECT_NAME',
    ]) {
      delete env[key];
    }
    compose = (...args) =>
      sh(cli[0]!, [...cli.slice(1), '--project-name', project, ...args], { cwd: dir, env });

    await compose('up', '--detach', '--no-build', 'redis', 'worker');
  });

  afterAll(async () => {
    await queue?.close();
    await compose?.('down', '--volumes', '--remove-orphans').catch((err) => console.error(err));
    await removeInstance(instance);
    for (const ref of [image, depsImage]) {
      await docker
        .getImage(ref)
        .remove({ force: true })
        .catch(() => undefined);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('validates the shipped compose file', async () => {
    const config = await compose('config');

    expect(config).toMatch(/worker:/);
    expect(config).toMatch(/\/var\/run\/docker\.sock:\/var\/run\/docker\.sock/);
  });

  it('starts the worker as user node with the socket group, and /healthz answers 200', async () => {
    const worker = (await serviceContainer(project, 'worker'))!;
    workerUrl = `http://${await containerIp(worker)}:9464`;

    const health = await until(
      'worker /healthz answering 200',
      async () => {
        const res = await fetch(`${workerUrl}/healthz`);
        return res.ok ? ((await res.json()) as { ok: boolean }) : undefined;
      },
      120_000,
    );
    const info = await docker.getContainer(worker).inspect();

    expect(health.ok).toBe(true);
    expect(info.Config.User).toBe('node');
    expect(info.HostConfig.GroupAdd).toEqual([String(statSync('/var/run/docker.sock').gid)]);
  });

  it("reports healthy through the image's own HEALTHCHECK", async () => {
    const worker = (await serviceContainer(project, 'worker'))!;

    const status = await until(
      'docker health status healthy',
      async () => {
        const s = (await docker.getContainer(worker).inspect()).State.Health?.Status;
        if (s === 'unhealthy') throw new Error('container reported unhealthy');
        return s === 'healthy' ? s : undefined;
      },
      90_000,
      1000,
    );

    expect(status).toBe('healthy');
  });

  it('counts a command the worker carried out in /metrics', async () => {
    const redisIp = await containerIp((await serviceContainer(project, 'redis'))!);
    queue = new CommandQueue(redisOptions(`redis://${redisIp}:6379`), `deckhand:${instance}`);

    const { result } = await queue.run(job({ kind: 'list' }, 'list'), { timeoutMs: 60_000 });
    const text = await (await fetch(`${workerUrl}/metrics`)).text();

    expect(result).toBeDefined();
    expect(sample(text, 'deckhand_commands_total{command="list",outcome="ok"}')).toBe(1);
    expect(sample(text, 'deckhand_job_duration_seconds_count{command="list"}')).toBe(1);
    expect(sample(text, 'deckhand_queue_jobs{state="active"}')).toBeDefined();
  });

  it('stops on SIGTERM during a build with exit code 0, leaving no job active', async () => {
    const worker = (await serviceContainer(project, 'worker'))!;
    let building!: () => void;
    const started = new Promise<void>((r) => (building = r));
    const id = await queue!.submit(
      job({ kind: 'build', build: { variant: 'install', pkg: 'curl' } }, 'build install curl'),
    );
    const outcome = queue!.wait(id, { timeoutMs: 170_000, onProgress: () => building() });

    await started;
    await compose('stop', 'worker');
    const state = (await docker.getContainer(worker).inspect()).State;
    const counts = await queue!.queue.getJobCounts('active', 'waiting', 'delayed', 'completed');

    expect(state.ExitCode).toBe(0);
    expect(counts.active).toBe(0);

    // Whether the build finished within the grace period or was handed back, a restarted worker
    // leaves it with one result.
    await compose('start', 'worker');
    await expect(outcome).resolves.toBeDefined();
  });
});
