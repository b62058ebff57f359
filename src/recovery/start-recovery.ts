import type { ConnectionOptions } from 'bullmq';
import type Dockerode from 'dockerode';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../core/config.js';
import type { CommandResult } from '../core/types.js';
import type { DockerBackend } from '../engine/docker/docker-backend.js';
import { replicaName } from '../engine/docker/store.js';
import type { CommandHooks } from '../jobs/worker.js';
import { AlertSink } from './alert-sink.js';
import { crashLoopSettings } from './backoff.js';
import { CrashLoopPolicy } from './crash-loop-policy.js';
import { type EngineEvent, type EventFollower, followEngineEvents } from './engine-events.js';
import { recoveryHooks } from './hooks.js';
import { Reconciler, type Trigger } from './reconciler.js';
import { type RecoverySchedule, startRecoverySchedule } from './schedule.js';

export interface RecoveryOptions {
  backend: DockerBackend;
  /** Deckhand's shared Redis connection (no blocking commands are sent on it). */
  redis: Redis;
  /** How BullMQ connects, for the schedule's queue and worker (`redisOptions(url)`). */
  connection: ConnectionOptions;
  config: Config;
  log: Logger;
  /** The client the engine's event stream is read through; the backend's own by default. */
  events?: Dockerode;
}

/** Automatic recovery, running; `hooks` go to the command worker. */
export interface Recovery {
  hooks: CommandHooks;
  policy: CrashLoopPolicy;
  /** Resolves once the engine's event stream is followed. */
  ready: Promise<void>;
  /** One recovery pass over every service now. */
  reconcile(trigger?: Trigger): Promise<CommandResult>;
  schedule: RecoverySchedule;
  stop(): Promise<void>;
}

/**
 * Starts recovery: the engine's event stream restarts a protected replica the moment it dies, a
 * BullMQ job scheduler reconciles everything every RECOVERY_INTERVAL_MS, and the returned hooks
 * reconcile before and after every command. Crash loops back off and are given up with one alert.
 */
export async function startRecovery(o: RecoveryOptions): Promise<Recovery> {
  const log = o.log.child({ component: 'recovery' });
  const prefix = `deckhand:${o.config.DECKHAND_INSTANCE}`;
  const alerts = new AlertSink(o.redis, prefix, log.child({ component: 'alerts' }));

  let policy: CrashLoopPolicy | undefined;
  const reconciler = new Reconciler(o.backend, () => policy!, log);
  policy = new CrashLoopPolicy({
    docker: o.backend.docker,
    redis: o.redis,
    prefix,
    settings: crashLoopSettings(o.config),
    alerts,
    log,
    wake: (service, at) => reconciler.wake(service, at),
    settleAt: (at) => reconciler.settleAt(at),
  });
  o.backend.policy = policy;

  const follower: EventFollower = followEngineEvents({
    docker: o.events ?? o.backend.docker,
    instance: o.config.DECKHAND_INSTANCE,
    log,
    onEvent: (e) => {
      if (e.role !== 'replica' || !e.service || e.action === 'oom') return;
      log.debug(
        { service: e.service, container: e.container, event: e.action, exitCode: e.exitCode },
        'replica event',
      );
      const service = e.service;
      settled(o.backend.docker, e)
        .then(() => protectedReplica(o.backend, service, e.container))
        .then((isProtected) => {
          // A replica that is meant to be down (stopped, scaled away, or quit) needs nothing here.
          if (!isProtected) return undefined;
          // The proxy drops the dead replica while it is restarted; the restart then changes the
          // config again, so nginx reloads and forgets that connections to the replica failed
          // (it would otherwise skip a replica back on its old address for its 10 s fail_timeout).
          o.backend
            .refreshProxy()
            .catch((err) => log.warn({ err, service }, 'proxy refresh after a death failed'));
          return reconciler.service(service, 'event');
        })
        .catch((err) => log.warn({ err, service }, 'recovery after event failed'));
    },
    onConnected: (again) => {
      if (!again) return;
      reconciler
        .all('reconnect')
        .catch((err) => log.warn({ err }, 'recovery after the event stream came back failed'));
    },
  });

  const schedule = await startRecoverySchedule({
    connection: o.connection,
    prefix,
    everyMs: o.config.RECOVERY_INTERVAL_MS,
    log,
    run: () => reconciler.all('schedule'),
  });

  // Whatever died while no Deckhand was watching comes back now.
  reconciler.all('startup').catch((err) => log.warn({ err }, 'recovery at startup failed'));
  await policy.settle().catch(() => undefined);

  return {
    hooks: recoveryHooks(reconciler),
    policy,
    ready: follower.ready,
    reconcile: (trigger = 'schedule') => reconciler.all(trigger),
    schedule,
    async stop() {
      await follower.stop();
      await schedule.stop();
      await reconciler.stop();
      if (o.backend.policy === policy) o.backend.policy = undefined;
    },
  };
}

/** True when Deckhand's record says this replica should be running. */
async function protectedReplica(
  backend: DockerBackend,
  service: string,
  container: string,
): Promise<boolean> {
  const record = await backend.store.get(service);
  if (!record || record.desired !== 'running') return false;
  return record.replicas.some(
    (n) => !record.held.includes(n) && replicaName(service, n) === container,
  );
}

/**
 * Waits until the engine has finished handling the container's exit. The engine sends `die` before
 * its container list says the container stopped; an inspect waits for the exit handling to end, so
 * recovery and the proxy then see it as stopped.
 */
async function settled(docker: Dockerode, e: EngineEvent): Promise<void> {
  if (e.action !== 'die') return;
  await docker
    .getContainer(e.container)
    .inspect()
    .catch(() => undefined);
}
