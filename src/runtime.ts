import Dockerode from 'dockerode';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from './core/config.js';
import { checkRedis, redisOptions, resolveRedis } from './core/redis.js';
import { DockerBackend } from './engine/docker/docker-backend.js';
import { CommandQueue } from './jobs/queue.js';
import { startWorker, type CommandHooks } from './jobs/worker.js';
import { ownedFilter } from './engine/docker/labels.js';
import { dockerCheck, redisCheck } from './ops/checks.js';
import { startOpsServer, type HealthCheck, type OpsServer } from './ops/http.js';
import { setContainerStateSource, setQueueDepthSource } from './ops/metrics.js';

/** Thrown when the Docker engine does not answer; the message says how to fix it. */
export class DockerUnreachableError extends Error {
  override readonly name = 'DockerUnreachableError';
}

/** The connections one Deckhand process shares between its parts. */
export interface Runtime {
  config: Config;
  log: Logger;
  redisUrl: string;
  redis: Redis;
  prefix: string;
  queue: CommandQueue;
  docker?: Dockerode;
  backend?: DockerBackend;
  close(): Promise<void>;
}

/** Connects to Docker (when this process carries out commands) and answers with a clear error if it cannot. */
export async function connectDocker(): Promise<Dockerode> {
  const docker = new Dockerode();
  try {
    await docker.ping();
    return docker;
  } catch (err) {
    const where = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
    const code = (err as { code?: string }).code;
    const hint =
      code === 'EACCES'
        ? 'permission denied: run as root or add this user to the docker group'
        : code === 'ENOENT' || code === 'ECONNREFUSED'
          ? 'nothing answers there: is dockerd running?'
          : (err as Error).message;
    throw new DockerUnreachableError(`cannot reach the Docker engine at ${where}: ${hint}`);
  }
}

/** Opens Redis (starting a private one if needed), the queue and, when asked, Docker and the backend. */
export async function openRuntime(
  config: Config,
  log: Logger,
  withEngine: boolean,
): Promise<Runtime> {
  const docker = withEngine ? await connectDocker() : undefined;
  const resolved = await resolveRedis(config.REDIS_URL, log);
  const connection = redisOptions(resolved.url);
  const redis = new Redis(connection);
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  try {
    await checkRedis(redis, resolved.url);
  } catch (err) {
    redis.disconnect();
    await resolved.stop?.();
    throw err;
  }
  const prefix = `deckhand:${config.DECKHAND_INSTANCE}`;
  const queue = new CommandQueue(connection, prefix);
  const backend = docker
    ? new DockerBackend(docker, redis, config, log.child({ component: 'engine' }))
    : undefined;
  return {
    config,
    log,
    redisUrl: resolved.url,
    redis,
    prefix,
    queue,
    docker,
    backend,
    close: async () => {
      await queue.close();
      await backend?.close();
      redis.disconnect();
      await resolved.stop?.();
    },
  };
}

/** Serves /healthz and /metrics on HTTP_PORT when it is set; the checks say what this process needs. */
export async function startOps(
  rt: Runtime,
  checks: Record<string, HealthCheck>,
): Promise<OpsServer | undefined> {
  const { queue, docker, config } = rt;
  const port = config.HTTP_PORT;
  if (port === undefined) return undefined;
  setQueueDepthSource(
    () =>
      queue.queue.getJobCounts('waiting', 'active', 'delayed', 'failed') as Promise<
        Record<string, number>
      >,
  );
  if (docker) {
    setContainerStateSource(async () => {
      const counts: Record<string, number> = {};
      for (const c of await docker.listContainers({
        all: true,
        filters: ownedFilter(config.DECKHAND_INSTANCE, 'replica'),
      })) {
        counts[c.State] = (counts[c.State] ?? 0) + 1;
      }
      return counts;
    });
  }
  const server = await startOpsServer({ port, checks, log: rt.log.child({ component: 'ops' }) });
  rt.log.info({ port: server.port }, 'serving /healthz and /metrics');
  return server;
}

/** The health checks of a process that carries out commands. */
export function workerChecks(rt: Runtime): Record<string, HealthCheck> {
  return { redis: redisCheck(rt.redis), ...(rt.docker ? { docker: dockerCheck(rt.docker) } : {}) };
}

/** Starts the command worker on a runtime that has the engine. */
export function runWorker(rt: Runtime, hooks?: CommandHooks) {
  if (!rt.backend) throw new Error('runWorker needs a runtime opened with the engine');
  return startWorker({
    connection: redisOptions(rt.redisUrl),
    prefix: rt.prefix,
    backend: rt.backend,
    log: rt.log.child({ component: 'worker' }),
    concurrency: rt.config.WORKER_CONCURRENCY,
    lockMs: rt.config.JOB_LOCK_MS,
    hooks,
  });
}
