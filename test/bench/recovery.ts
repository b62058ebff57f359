import { randomBytes } from 'node:crypto';
import readline from 'node:readline';
import { pathToFileURL } from 'node:url';
import Dockerode from 'dockerode';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { runLine } from '../../src/console/console.js';
import { loadConfig } from '../../src/core/config.js';
import { redisOptions, startPrivateRedis } from '../../src/core/redis.js';
import { DockerBackend } from '../../src/engine/docker/docker-backend.js';
import { replicaName } from '../../src/engine/docker/store.js';
import { CommandQueue } from '../../src/jobs/queue.js';
import { startWorker } from '../../src/jobs/worker.js';
import { startRecovery } from '../../src/recovery/start-recovery.js';
import { getOnce, machine, removeLabelled, table } from './support.js';

/**
 * Recovery MTTR: the same crash (SIGKILL of the container's main process from the host, as an
 * out-of-memory kill or a segfault would end it) given to
 *   1. Deckhand: replicas of a service behind its proxy, brought back by recovery;
 *   2. Docker's own restart policy (`always`), on plain containers of the same image;
 *   3. a 5 s poller that starts whatever exited, as autoheal-style tools do.
 * "Running" is from the kill to the engine's `start` event of the container; "serving" (Deckhand
 * only, the others have no proxy) is from the kill to the first answer through the proxy from the
 * very replica that crashed, with requests on fresh connections arriving all the time, down time
 * included. Crashes hit one container at a time, round robin over four, and each
 * container has run past its restarter's backoff reset before it is crashed again (Docker: 10 s;
 * Deckhand: CRASHLOOP_RESET_MS, set to 5 s here), so every crash is a first crash, not a loop.
 */

const CRASHES = Number(process.env.BENCH_CRASHES ?? 20);
const REPLICAS = 4;
const IMAGE = 'nginx:alpine';
const DOCKER_RESET_MS = 10_500;
const DECKHAND_RESET_MS = 5000;
const POLL_MS = 5000;

interface Sample {
  running: number;
  serving?: number;
}

/** Watches the engine's start events so a crash can be timed to the engine's own clock. */
function startEvents(docker: Dockerode) {
  const waiters = new Map<string, (at: number) => void>();
  let stream: NodeJS.ReadableStream | undefined;
  const ready = docker
    .getEvents({ filters: { type: ['container'], event: ['start'] } })
    .then((s) => {
      stream = s;
      readline
        .createInterface({ input: s })
        .on('line', (line) => {
          const e = JSON.parse(line) as {
            timeNano: number;
            Actor: { Attributes: { name: string } };
          };
          const w = waiters.get(e.Actor.Attributes.name);
          if (w) {
            waiters.delete(e.Actor.Attributes.name);
            w(e.timeNano / 1e6);
          }
        })
        .on('error', () => undefined);
    });
  return {
    ready,
    /** Resolves with the engine time of the container's next start. */
    nextStart(name: string): Promise<number> {
      return new Promise((resolve) => waiters.set(name, resolve));
    },
    stop: () => (stream as unknown as { destroy(): void } | undefined)?.destroy(),
  };
}

/** SIGKILLs the container's main process from the host; resolves with the time of the kill. */
async function crash(docker: Dockerode, name: string): Promise<number> {
  const pid = (await docker.getContainer(name).inspect()).State.Pid;
  const at = Date.now();
  process.kill(pid, 'SIGKILL');
  return at;
}

/** Waits until the container has run `ms` since it last started, so its restarter's backoff is reset. */
async function ranFor(docker: Dockerode, name: string, ms: number): Promise<void> {
  for (;;) {
    const s = (await docker.getContainer(name).inspect()).State;
    const left = Date.parse(s.StartedAt) + ms - Date.now();
    if (s.Running && left <= 0) return;
    await new Promise((r) => setTimeout(r, Math.max(50, left)));
  }
}

async function benchDeckhand(
  docker: Dockerode,
  events: ReturnType<typeof startEvents>,
): Promise<Sample[]> {
  const instance = `b${randomBytes(3).toString('hex')}`;
  const base = 40000 + Math.floor(Math.random() * 200) * 100;
  const config = loadConfig({
    DECKHAND_INSTANCE: instance,
    PROXY_PORT_RANGE: `${base}-${base + 99}`,
    PUBLISH_HOST_IP: '127.0.0.1',
    CRASHLOOP_RESET_MS: String(DECKHAND_RESET_MS),
    LOG_LEVEL: 'warn',
  });
  const log = pino({ level: process.env.BENCH_LOG_LEVEL ?? 'warn' });
  const redisServer = await startPrivateRedis();
  const connection = redisOptions(redisServer.url);
  const redis = new Redis(connection);
  const prefix = `deckhand:${instance}`;
  const backend = new DockerBackend(docker, redis, config, log);
  const queue = new CommandQueue(connection, prefix);
  const recovery = await startRecovery({ backend, redis, connection, config, log });
  const worker = startWorker({
    connection,
    prefix,
    backend,
    log,
    concurrency: 4,
    hooks: recovery.hooks,
  });
  const ok = async (line: string) => {
    const out = await runLine(
      line,
      { queue, maxReplicas: config.MAX_REPLICAS, resultTimeoutMs: 300_000 },
      () => undefined,
    );
    if (!out.ok) throw new Error(`"${line}" failed: ${out.output}`);
  };

  try {
    await recovery.ready;
    const service = `bench${instance}`;
    await ok(`run -itd -p 80 --name ${service} ${IMAGE}`);
    await ok(`scale up ${REPLICAS - 1} ${service}`);
    const port = (await backend.store.get(service))!.spec.ports[0]!.hostPort!;
    const names = Array.from({ length: REPLICAS }, (_, i) => replicaName(service, i + 1));
    const hosts = new Map<string, string>();
    for (const n of names) hosts.set(n, (await docker.getContainer(n).inspect()).Config.Hostname);

    const samples: Sample[] = [];
    for (let i = 0; i < CRASHES; i++) {
      const name = names[i % REPLICAS]!;
      await ranFor(docker, name, DECKHAND_RESET_MS + 200);
      const started = events.nextStart(name);
      const at = await crash(docker, name);
      // Traffic keeps coming while the replica is down, as it would in production; an answer counts
      // only once the replica started again (one accepted just before the kill may still come back).
      let back = false;
      void started.then(() => (back = true));
      const served = servedBy(port, hosts.get(name)!, () => back, 30_000);
      const running = (await started) - at;
      const serving = (await served) - at;
      samples.push({ running, serving });
      process.stdout.write(
        `  deckhand crash ${i + 1}/${CRASHES}: running ${running.toFixed(0)} ms, serving ${serving.toFixed(0)} ms\n`,
      );
    }
    return samples;
  } finally {
    await recovery.stop();
    await worker.worker.close(true);
    await queue.close();
    await removeLabelled(docker, instance);
    redis.disconnect();
    await redisServer.stop();
  }
}

/** Resolves with the time the proxy first answered from this host (fresh connection each try). */
async function servedBy(
  port: number,
  host: string,
  started: () => boolean,
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const sentAfterStart = started();
    const answer = await getOnce(port, 3000);
    if (sentAfterStart && answer.status === 200 && answer.body?.includes(`served by ${host}`))
      return Date.now();
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`the proxy never answered from ${host} within ${timeoutMs} ms`);
}

/** Plain containers of the bench image, labelled for removal, with the given restart policy. */
async function plainContainers(
  docker: Dockerode,
  tag: string,
  restart: 'always' | 'no',
): Promise<string[]> {
  const names: string[] = [];
  for (let i = 1; i <= REPLICAS; i++) {
    const name = `${tag}-${restart}-${i}`;
    const c = await docker.createContainer({
      name,
      Image: IMAGE,
      Labels: { 'deckhand.instance': tag },
      HostConfig: { Init: true, RestartPolicy: { Name: restart } },
    });
    await c.start();
    names.push(name);
  }
  return names;
}

async function benchDocker(
  docker: Dockerode,
  events: ReturnType<typeof startEvents>,
  tag: string,
): Promise<Sample[]> {
  const names = await plainContainers(docker, tag, 'always');
  const samples: Sample[] = [];
  for (let i = 0; i < CRASHES; i++) {
    const name = names[i % REPLICAS]!;
    await ranFor(docker, name, DOCKER_RESET_MS);
    const started = events.nextStart(name);
    const at = await crash(docker, name);
    samples.push({ running: (await started) - at });
    process.stdout.write(
      `  docker restart policy crash ${i + 1}/${CRASHES}: running ${samples.at(-1)!.running.toFixed(0)} ms\n`,
    );
  }
  return samples;
}

async function benchPoller(
  docker: Dockerode,
  events: ReturnType<typeof startEvents>,
  tag: string,
): Promise<Sample[]> {
  const names = await plainContainers(docker, tag, 'no');
  const timer = setInterval(() => {
    void docker
      .listContainers({
        all: true,
        filters: { label: [`deckhand.instance=${tag}`], status: ['exited'] },
      })
      .then((list) =>
        Promise.all(
          list.map((c) =>
            docker
              .getContainer(c.Id)
              .start()
              .catch(() => undefined),
          ),
        ),
      );
  }, POLL_MS);
  try {
    const samples: Sample[] = [];
    for (let i = 0; i < CRASHES; i++) {
      const name = names[i % REPLICAS]!;
      // A crash lands anywhere in the poll cycle, as real ones do.
      await new Promise((r) => setTimeout(r, Math.random() * POLL_MS));
      const started = events.nextStart(name);
      const at = await crash(docker, name);
      samples.push({ running: (await started) - at });
      process.stdout.write(
        `  5 s poller crash ${i + 1}/${CRASHES}: running ${samples.at(-1)!.running.toFixed(0)} ms\n`,
      );
    }
    return samples;
  } finally {
    clearInterval(timer);
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function row(name: string, values: number[] | undefined): string[] {
  if (!values?.length) return [name, 'n/a (no proxy)', '', '', ''];
  const s = (v: number) => `${Math.round(v)}`;
  return [
    name,
    s(percentile(values, 50)),
    s(percentile(values, 95)),
    s(Math.min(...values)),
    s(Math.max(...values)),
  ];
}

export interface RecoveryBenchResult {
  deckhand: Sample[];
  docker: Sample[];
  poller: Sample[];
}

/** Runs the three restarters on the same kind of crash and prints one table. */
export async function main(): Promise<RecoveryBenchResult> {
  const facts = machine();
  const docker = new Dockerode();
  const events = startEvents(docker);
  await events.ready;
  const tag = `b${randomBytes(3).toString('hex')}`;
  const cleanup = () => removeLabelled(docker, tag);
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

  console.log(`\n## Recovery (${CRASHES} crashes each, SIGKILL of the container's main process)\n`);
  try {
    const deckhand = await benchDeckhand(docker, events);
    const restartPolicy = await benchDocker(docker, events, tag);
    const poller = await benchPoller(docker, events, tag);

    const header = ['time from the crash to … (ms)', 'p50', 'p95', 'min', 'max'];
    console.log('');
    console.log(
      table(header, [
        row(
          'Deckhand: replica running again',
          deckhand.map((s) => s.running),
        ),
        row(
          'Deckhand: proxy serving from it again',
          deckhand.map((s) => s.serving!),
        ),
        row(
          "Docker restart policy 'always': running again",
          restartPolicy.map((s) => s.running),
        ),
        row(
          '5 s poller: running again',
          poller.map((s) => s.running),
        ),
      ]),
    );
    console.log('');
    for (const [k, v] of Object.entries(facts)) console.log(`${k}: ${v}`);
    return { deckhand, docker: restartPolicy, poller };
  } finally {
    events.stop();
    await cleanup();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
