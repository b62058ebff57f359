import { randomBytes } from 'node:crypto';
import type Dockerode from 'dockerode';
import Docker from 'dockerode';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { runLine, type LineOutcome } from '../../src/console/console.js';
import { loadConfig, type Config } from '../../src/core/config.js';
import { createLogger } from '../../src/core/log.js';
import { redisOptions } from '../../src/core/redis.js';
import { alertsKey, type Alert } from '../../src/discord/alerts.js';
import { DockerBackend } from '../../src/engine/docker/docker-backend.js';
import { CommandQueue } from '../../src/jobs/queue.js';
import { startWorker } from '../../src/jobs/worker.js';
import { startRecovery, type Recovery } from '../../src/recovery/start-recovery.js';
import { removeInstance } from '../support/engine.js';

/** A whole Deckhand with recovery running: queue, worker with recovery's hooks, engine, proxy. */
export interface RecoveringDeckhand {
  config: Config;
  /** The environment the configuration was read from, for a second process on the same instance. */
  env: Record<string, string>;
  prefix: string;
  docker: Dockerode;
  redis: Redis;
  backend: DockerBackend;
  queue: CommandQueue;
  recovery: Recovery;
  log: Logger;
  exec(line: string): Promise<LineOutcome>;
  ok(line: string): Promise<string>;
  /** Alerts published so far on this instance's stream, oldest first. */
  alerts(): Promise<Alert[]>;
  /** Stops recovery and starts it again, as a restarted worker process does (with new settings, if given). */
  restartRecovery(env?: Record<string, string>, events?: Dockerode): Promise<Recovery>;
  /** Removes what this instance made and closes connections. */
  close(): Promise<void>;
}

export interface DeckhandOptions {
  redisUrl: string;
  env?: Record<string, string>;
  /** Client the event stream is read through (a test may cut it). */
  events?: Dockerode;
}

/** Starts Deckhand with recovery for one test file, under its own instance label. */
export async function startDeckhand(o: DeckhandOptions): Promise<RecoveringDeckhand> {
  const instance = `t${randomBytes(3).toString('hex')}`;
  const base = 30000 + Math.floor(Math.random() * 300) * 100;
  const env = {
    DECKHAND_INSTANCE: instance,
    PROXY_PORT_RANGE: `${base}-${base + 99}`,
    PUBLISH_HOST_IP: '127.0.0.1',
    STOP_TIMEOUT_S: '2',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    ...o.env,
  };
  let config = loadConfig(env);
  const log = createLogger(config.LOG_LEVEL, false).child({ test: instance });
  const docker = new Docker();
  const connection = redisOptions(o.redisUrl);
  const redis = new Redis(connection);
  redis.on('error', () => undefined);
  const prefix = `deckhand:${instance}`;
  const backend = new DockerBackend(docker, redis, config, log);
  const queue = new CommandQueue(connection, prefix);

  let recovery = await startRecovery({ backend, redis, connection, config, log, events: o.events });
  await recovery.ready;
  const worker = startWorker({
    connection,
    prefix,
    backend,
    log,
    concurrency: 4,
    hooks: {
      before: (job, l) => recovery.hooks.before!(job, l),
      after: (job, l, outcome) => recovery.hooks.after!(job, l, outcome),
    },
  });

  const exec = (line: string) =>
    runLine(
      line,
      { queue, maxReplicas: config.MAX_REPLICAS, resultTimeoutMs: 300_000 },
      () => undefined,
    );
  const self: RecoveringDeckhand = {
    get config() {
      return config;
    },
    env,
    prefix,
    docker,
    redis,
    backend,
    queue,
    log,
    get recovery() {
      return recovery;
    },
    exec,
    ok: async (line) => {
      const outcome = await exec(line);
      if (!outcome.ok) throw new Error(`"${line}" failed: ${outcome.output}`);
      return outcome.output;
    },
    alerts: async () => {
      const entries = await redis.xrange(alertsKey(prefix), '-', '+');
      return entries.map(([, fields]) => JSON.parse(fields[fields.indexOf('alert') + 1]!) as Alert);
    },
    restartRecovery: async (more = {}, events = o.events) => {
      await recovery.stop();
      config = loadConfig({ ...env, ...more });
      recovery = await startRecovery({ backend, redis, connection, config, log, events });
      await recovery.ready;
      return recovery;
    },
    close: async () => {
      await recovery.stop().catch(() => undefined);
      await worker.worker.close(true).catch(() => undefined);
      await queue.close();
      await removeInstance(docker, instance);
      redis.disconnect();
    },
  };
  return self;
}

/** When the container last started, as the engine says (changes on every restart). */
export async function startedAt(docker: Dockerode, name: string): Promise<string | undefined> {
  const info = await docker
    .getContainer(name)
    .inspect()
    .catch(() => undefined);
  return info?.State.Running ? info.State.StartedAt : undefined;
}
