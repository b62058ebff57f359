import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import Dockerode from 'dockerode';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { runLine, type LineOutcome } from '../../src/console/console.js';
import { loadConfig, type Config } from '../../src/core/config.js';
import { createLogger } from '../../src/core/log.js';
import { redisOptions } from '../../src/core/redis.js';
import { DockerBackend } from '../../src/engine/docker/docker-backend.js';
import { CommandQueue } from '../../src/jobs/queue.js';
import { startWorker } from '../../src/jobs/worker.js';

/** A whole Deckhand (queue, worker, engine, proxy) for one test file, under its own instance label. */
export interface TestEngine {
  config: Config;
  docker: Dockerode;
  redis: Redis;
  backend: DockerBackend;
  queue: CommandQueue;
  /** Types a line into the console path: parse, queue, worker, engine. */
  exec(line: string): Promise<LineOutcome & { progress: string[] }>;
  /** Like exec, but fails the test unless the command succeeded. */
  ok(line: string): Promise<string>;
  /** Stops the worker cleanly (another can be started on the same instance). */
  stopWorker(graceMs?: number): Promise<void>;
  startWorker(): void;
  /** Removes what this instance made (containers, proxy, network, images) and closes connections. */
  close(): Promise<void>;
}

/** Starts a test engine; `env` overrides configuration. Names are unique to this file. */
export async function startTestEngine(env: Record<string, string> = {}): Promise<TestEngine> {
  const instance = `t${randomBytes(3).toString('hex')}`;
  const base = 30000 + Math.floor(Math.random() * 300) * 100;
  const config = loadConfig({
    DECKHAND_INSTANCE: instance,
    PROXY_PORT_RANGE: `${base}-${base + 99}`,
    PUBLISH_HOST_IP: '127.0.0.1',
    STOP_TIMEOUT_S: '2',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    ...env,
  });
  const log = createLogger(config.LOG_LEVEL, false).child({ test: instance });
  const docker = new Dockerode();
  const connection = redisOptions(inject('redisUrl'));
  const redis = new Redis(connection);
  const prefix = `deckhand:${instance}`;
  const backend = new DockerBackend(docker, redis, config, log);
  const queue = new CommandQueue(connection, prefix);
  let worker = startWorker({ connection, prefix, backend, log, concurrency: 4 });

  const exec = async (line: string) => {
    const progress: string[] = [];
    const outcome = await runLine(
      line,
      { queue, maxReplicas: config.MAX_REPLICAS, resultTimeoutMs: 600_000 },
      (p) => progress.push(p),
    );
    return { ...outcome, progress };
  };
  return {
    config,
    docker,
    redis,
    backend,
    queue,
    exec,
    ok: async (line) => {
      const outcome = await exec(line);
      if (!outcome.ok) throw new Error(`"${line}" failed: ${outcome.output}`);
      return outcome.output;
    },
    stopWorker: (graceMs = 60_000) => worker.shutdown(graceMs),
    startWorker: () => {
      worker = startWorker({ connection, prefix, backend, log, concurrency: 4 });
    },
    close: async () => {
      await worker.shutdown(0).catch(() => undefined);
      await queue.close();
      await removeInstance(docker, instance);
      redis.disconnect();
    },
  };
}

/** Removes every container, network and image labelled with the instance. */
export async function removeInstance(docker: Dockerode, instance: string): Promise<void> {
  const filters = { label: [`deckhand.instance=${instance}`] };
  for (const c of await docker.listContainers({ all: true, filters })) {
    await docker
      .getContainer(c.Id)
      .remove({ force: true })
      .catch(() => undefined);
  }
  for (const n of await docker.listNetworks({ filters })) {
    await docker
      .getNetwork(n.Id)
      .remove()
      .catch(() => undefined);
  }
  for (const i of await docker.listImages({ filters })) {
    await docker
      .getImage(i.Id)
      .remove({ force: true })
      .catch(() => undefined);
  }
}

/** Opens a TCP connection to 127.0.0.1:port, sends `send`, and resolves with everything read until close. */
export function tcpExchange(port: number, send = '', timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let data = '';
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      resolve(data);
    });
    socket.on('connect', () => socket.end(send));
    socket.on('data', (d) => (data += d.toString()));
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
  });
}

/** An HTTP GET through 127.0.0.1:port on a fresh connection each time, so the proxy balances it. */
export function httpGet(
  port: number,
  path = '/',
  timeoutMs = 3000,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      {
        host: '127.0.0.1',
        port,
        path,
        agent: false,
        headers: { connection: 'close' },
        timeout: timeoutMs,
      },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`no answer from 127.0.0.1:${port} within ${timeoutMs} ms`)),
    );
    req.on('error', reject);
  });
}

/** Polls `check` until it returns a value (not undefined) or the bound runs out. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 15_000,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(
    `condition not met within ${timeoutMs} ms${lastError ? `: ${(lastError as Error).message}` : ''}`,
  );
}

/** The host port the proxy publishes for a service's first port, read from `list`. */
export async function publishedPort(engine: TestEngine, service: string): Promise<number> {
  const record = await engine.backend.store.get(service);
  const port = record?.spec.ports[0]?.hostPort;
  if (!port) throw new Error(`${service} publishes no port`);
  return port;
}

/** The replica hostname an nginx stand-in page names. */
export const hostOf = (body: string) => /served by ([^<\s]+)/.exec(body)?.[1];

/**
 * Makes Deckhand's network before Deckhand does, with a subnet of its own, so a test can hand a
 * freed address to another container (Docker allows fixed addresses only on such networks).
 */
export async function createSubnetNetwork(docker: Dockerode, config: Config): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const subnet = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}.0/24`;
    try {
      await docker.createNetwork({
        Name: config.network,
        Labels: { 'deckhand.instance': config.DECKHAND_INSTANCE, 'deckhand.role': 'network' },
        IPAM: { Config: [{ Subnet: subnet }] },
      });
      return;
    } catch (err) {
      if (attempt > 5) throw err;
    }
  }
}

/** Starts a stranger on Deckhand's network at `ip`, labelled so the test's cleanup removes it. */
export async function startSquatter(
  docker: Dockerode,
  config: Config,
  ip: string,
): Promise<Dockerode.Container> {
  const squatter = await docker.createContainer({
    Image: 'nginx:alpine',
    Labels: { 'deckhand.instance': config.DECKHAND_INSTANCE, 'deckhand.role': 'test-squatter' },
    HostConfig: { NetworkMode: config.network },
    NetworkingConfig: {
      EndpointsConfig: { [config.network]: { IPAMConfig: { IPv4Address: ip } } },
    },
  });
  await squatter.start();
  return squatter;
}

/** Sends `requests` GETs through the proxy, each on a fresh connection; every one must be 200. */
export async function servedBy(port: number, requests: number): Promise<Set<string>> {
  const hosts = new Set<string>();
  for (let i = 0; i < requests; i++) {
    const { status, body } = await httpGet(port);
    if (status !== 200)
      throw new Error(`request ${i + 1} through 127.0.0.1:${port} answered ${status}`);
    hosts.add(hostOf(body) ?? body);
  }
  return hosts;
}

/** The hostnames of the named containers, as an nginx stand-in reports them. */
export async function hostnames(docker: Dockerode, names: string[]): Promise<Set<string>> {
  const hosts = await Promise.all(
    names.map(async (n) => (await docker.getContainer(n).inspect()).Config.Hostname),
  );
  return new Set(hosts);
}
