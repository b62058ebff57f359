import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, redisOptions } from '../../src/core/redis.js';
import type { CommandJob } from '../../src/core/types.js';
import { CommandQueue } from '../../src/jobs/queue.js';
import { DiscordStandIn, type StoredMessage } from '../discord/stand-in/stand-in.js';
import {
  composeCli,
  containerIp,
  health,
  nodeBaseImage,
  redisImage,
  removeInstance,
  repoRoot,
  sample,
  serviceContainer,
  sh,
  until,
} from './deploy-support.js';

const docker = new Dockerode();
const instance = `t-${randomBytes(4).toString('hex')}`;
const project = `deckhand-${instance}`;
const image = `deckhand-${instance}:test`;
const depsImage = `deckhand-${instance}:deps`;
const service = `web-${instance}`;

const job = (command: CommandJob['command'], text: string): CommandJob => ({
  command,
  text,
  requester: { source: 'console', userName: 'compose-test' },
});

/** All of a reply's words, embeds included, for matching. */
const text = (m: StoredMessage) =>
  [m.content, ...m.embeds.map((e) => JSON.stringify(e))].join('\n');

// The shipped docker-compose.yml runs unchanged; this override only lets the bot reach the Discord
// stand-in, which listens on 127.0.0.1 in the test process: the bot joins the host's network, and
// Redis is published on a loopback port for it. JSON is YAML, so compose reads it as it is.
function testOverride(redisPort: number, botPort: number): string {
  return JSON.stringify(
    {
      services: {
        redis: { ports: [`127.0.0.1:${redisPort}:6379`] },
        bot: {
          network_mode: 'host',
          environment: {
            REDIS_URL: `redis://127.0.0.1:${redisPort}`,
            HTTP_PORT: String(botPort),
          },
        },
      },
    },
    null,
    2,
  );
}

describe('docker compose deploy', () => {
  let dir: string | undefined;
  const standIn = new DiscordStandIn();
  let compose: (...args: string[]) => Promise<string>;
  let shipped: (...args: string[]) => Promise<string>;
  let queue: CommandQueue | undefined;
  let redisPort: number;
  let workerUrl: string;
  let botUrl: string;

  beforeAll(async () => {
    const cli = await composeCli();
    const nodeImage = await nodeBaseImage();
    const redis = await redisImage();
    // The deps stage gets a tag of its own so that afterAll can remove it: untagged it would stay
    // behind as a dangling image.
    const build = ['build', '--quiet', '--force-rm', '--build-arg', `NODE_IMAGE=${nodeImage}`];
    await sh('docker', [...build, '--target', 'deps', '--tag', depsImage, '.'], { cwd: repoRoot });
    await sh('docker', [...build, '--tag', image, '.'], { cwd: repoRoot });

    await standIn.start();
    redisPort = await freePort();
    const botPort = await freePort();
    botUrl = `http://127.0.0.1:${botPort}`;

    dir = mkdtempSync(path.join(tmpdir(), 'deckhand-compose-'));
    // The shipped compose file, run from a folder of its own so the test's .env stays out of the
    // checkout; the image was built above, so `build:` is not used. The Discord settings go in
    // .env, where the README tells a new user to put them.
    cpSync(path.join(repoRoot, 'docker-compose.yml'), path.join(dir, 'docker-compose.yml'));
    cpSync(path.join(repoRoot, 'myimages'), path.join(dir, 'myimages'), { recursive: true });
    writeFileSync(path.join(dir, 'test-override.yml'), testOverride(redisPort, botPort));
    writeFileSync(
      path.join(dir, '.env'),
      [
        `COMPOSE_PROJECT_NAME=${project}`,
        `DOCKER_GID=${statSync('/var/run/docker.sock').gid}`,
        `DECKHAND_INSTANCE=${instance}`,
        'PUBLISH_HOST_IP=127.0.0.1',
        'SHUTDOWN_GRACE_MS=20000',
        'LOG_LEVEL=info',
        `DISCORD_TOKEN=${standIn.token}`,
        `DISCORD_GUILD_ID=${standIn.guildId}`,
        `DISCORD_ALERT_CHANNEL_ID=${standIn.alertChannelId}`,
        `DISCORD_API_BASE=${standIn.apiBase}`,
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
    const run = (files: string[], args: string[]) =>
      sh(cli[0]!, [...cli.slice(1), '--project-name', project, ...files, ...args], {
        cwd: dir,
        env,
      });
    shipped = (...args) => run(['--file', 'docker-compose.yml'], args);
    compose = (...args) =>
      run(['--file', 'docker-compose.yml', '--file', 'test-override.yml'], args);

    // The documented production start: every service at once.
    await compose('up', '--detach', '--no-build');
  });

  afterAll(async () => {
    await queue?.close();
    await compose?.('down', '--volumes', '--remove-orphans').catch((err) => console.error(err));
    await standIn.close().catch(() => undefined);
    await removeInstance(instance);
    for (const ref of [image, depsImage]) {
      await docker
        .getImage(ref)
        .remove({ force: true })
        .catch(() => undefined);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Sends a slash command through the stand-in; resolves with the bot's final reply. */
  async function slash(name: string, options: Record<string, string> = {}): Promise<string> {
    const { id, token } = standIn.sendCommand({ name, options });
    await standIn.until(() => standIn.acknowledgement(id), 3000, `the acknowledgement of /${name}`);
    const reply = await standIn.until(
      () => {
        const m = standIn.original(token);
        // A result is an embed; a failure or refusal is text starting with ❌, ⚠️ or ⛔.
        return m && (m.embeds.length > 0 || /^(❌|⚠️|⛔)/u.test(m.content)) ? m : undefined;
      },
      120_000,
      `the result of /${name}`,
    );
    return text(reply);
  }

  it('validates the shipped compose file', async () => {
    const config = await shipped('config');

    expect(config).toMatch(/worker:/);
    expect(config).toMatch(/bot:/);
    expect(config).toMatch(/\/var\/run\/docker\.sock:\/var\/run\/docker\.sock/);
  });

  it('starts the worker as user node with the socket group; /healthz checks Redis and Docker', async () => {
    const worker = (await serviceContainer(project, 'worker'))!;
    workerUrl = `http://${await containerIp(worker)}:9464`;

    const report = await until('worker /healthz answering 200', () => health(workerUrl), 120_000);
    const info = await docker.getContainer(worker).inspect();

    expect(report.ok).toBe(true);
    expect(Object.keys(report.checks).sort()).toEqual(['docker', 'redis']);
    expect(Object.values(report.checks).every((c) => c.ok)).toBe(true);
    expect(info.Config.User).toBe('node');
    expect(info.HostConfig.GroupAdd).toEqual([String(statSync('/var/run/docker.sock').gid)]);
  });

  it('starts the bot without the socket; it logs in to Discord and /healthz checks Redis and the gateway', async () => {
    const bot = (await serviceContainer(project, 'bot'))!;

    const report = await until('bot /healthz answering 200', () => health(botUrl), 120_000);
    const info = await docker.getContainer(bot).inspect();

    expect(report.ok).toBe(true);
    expect(Object.keys(report.checks).sort()).toEqual(['gateway', 'redis']);
    expect(Object.values(report.checks).every((c) => c.ok)).toBe(true);
    expect(info.Config.User).toBe('node');
    expect(info.Mounts.map((m) => m.Destination)).not.toContain('/var/run/docker.sock');
    expect(standIn.requests.some((r) => r.path === '/gateway/bot')).toBe(true);
  });

  it.each(['worker', 'bot'])(
    "reports the %s healthy through the image's own HEALTHCHECK",
    async (name) => {
      const id = (await serviceContainer(project, name))!;

      const status = await until(
        `${name} docker health status healthy`,
        async () => {
          const s = (await docker.getContainer(id).inspect()).State.Health?.Status;
          if (s === 'unhealthy') throw new Error('container reported unhealthy');
          return s === 'healthy' ? s : undefined;
        },
        90_000,
        1000,
      );

      expect(status).toBe('healthy');
    },
  );

  it('carries out /run and /list sent through Discord: the bot queues, the worker runs it', async () => {
    const started = await slash('run', { args: `-itd -p 80 --name ${service} nginx:alpine` });
    const port = Number(/127\.0\.0\.1:(\d+)->80/.exec(started)?.[1]);
    const listed = await slash('list');
    const replica = docker.getContainer(service);
    const info = await replica.inspect();
    const page = await until(
      'the service answering through the proxy',
      async () => {
        const res = await fetch(`http://127.0.0.1:${port}/`);
        return res.ok ? res.text() : undefined;
      },
      30_000,
    );

    expect(started).toContain(`Started ${service} from nginx:alpine`);
    expect(port).toBeGreaterThan(0);
    expect(listed).toContain(service);
    expect(listed).toContain('1/1 running');
    expect(info.State.Running).toBe(true);
    expect(info.Config.Labels?.['deckhand.instance']).toBe(instance);
    expect(page).toContain(`served by ${info.Config.Hostname}`);
  });

  it("shows the scenario's figures in the worker's /metrics", async () => {
    const metrics = await (await fetch(`${workerUrl}/metrics`)).text();
    const figure = (series: string) => sample(metrics, series);

    expect(figure('deckhand_commands_total{command="run",outcome="ok"}')).toBe(1);
    expect(figure('deckhand_commands_total{command="list",outcome="ok"}')).toBe(1);
    expect(figure('deckhand_job_duration_seconds_count{command="run"}')).toBe(1);
    expect(figure('deckhand_job_duration_seconds_sum{command="run"}')).toBeGreaterThan(0);
    expect(figure('deckhand_managed_containers{state="running"}')).toBe(1);
    expect(figure('deckhand_proxy_reloads_total{outcome="ok"}')).toBeGreaterThanOrEqual(1);
    expect(figure('deckhand_queue_jobs{state="active"}')).toBe(0);
    expect(figure('deckhand_queue_jobs{state="failed"}')).toBe(0);
  });

  it('stops on SIGTERM during a build with exit code 0, leaving no job active', async () => {
    queue = new CommandQueue(
      redisOptions(`redis://127.0.0.1:${redisPort}`),
      `deckhand:${instance}`,
    );
    const worker = (await serviceContainer(project, 'worker'))!;
    let building!: () => void;
    const started = new Promise<void>((r) => (building = r));
    const id = await queue.submit(
      job({ kind: 'build', build: { variant: 'install', pkg: 'curl' } }, 'build install curl'),
    );
    const outcome = queue.wait(id, { timeoutMs: 170_000, onProgress: () => building() });

    await started;
    await compose('stop', 'worker');
    const state = (await docker.getContainer(worker).inspect()).State;
    const counts = await queue.queue.getJobCounts('active', 'waiting', 'delayed', 'completed');

    expect(state.ExitCode).toBe(0);
    expect(counts.active).toBe(0);

    // Whether the build finished within the grace period or was handed back, a restarted worker
    // leaves it with one result.
    await compose('start', 'worker');
    await expect(outcome).resolves.toBeDefined();
  });
});
