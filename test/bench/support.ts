import pLimit from 'p-limit';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import Dockerode from 'dockerode';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { runLine } from '../../src/console/console.js';
import { loadConfig, type Config } from '../../src/core/config.js';
import { redisOptions, startPrivateRedis, type PrivateRedis } from '../../src/core/redis.js';
import { DockerBackend } from '../../src/engine/docker/docker-backend.js';
import { CommandQueue } from '../../src/jobs/queue.js';
import { startWorker } from '../../src/jobs/worker.js';

/** One structured log record the engine wrote while a bench step ran. */
export type LogRecord = Record<string, unknown> & { msg?: string; level?: number };

/** One call the engine made to the Docker API: which endpoint, and how long until it answered. */
export interface ApiCall {
  endpoint: string;
  /** The container, network, image or exec the call named, if any. */
  target?: string;
  /** When the call was made (epoch ms, the clock pino stamps logs with) and how long it took. */
  at: number;
  ms: number;
}

/** A whole Deckhand (private Redis, queue, worker, engine, proxy) under a bench-only instance. */
export interface BenchEngine {
  instance: string;
  config: Config;
  docker: Dockerode;
  backend: DockerBackend;
  /** Types a line into the console path; throws unless the command succeeded. */
  ok(line: string): Promise<string>;
  /** Starts collecting logs and Docker API calls; `take` hands back what arrived since. */
  record(): void;
  take(): { logs: LogRecord[]; calls: ApiCall[] };
  /** Removes every container and network labelled with the instance, then stops Redis. */
  close(): Promise<void>;
}

/** Starts a private Redis and a full Deckhand on it, labelled with a fresh `b<hex>` instance. */
export async function startBenchEngine(): Promise<BenchEngine> {
  const instance = `b${randomBytes(3).toString('hex')}`;
  const base = 40000 + Math.floor(Math.random() * 200) * 100;
  const config = loadConfig({
    DECKHAND_INSTANCE: instance,
    PROXY_PORT_RANGE: `${base}-${base + 99}`,
    PUBLISH_HOST_IP: '127.0.0.1',
    LOG_LEVEL: 'info',
  });
  const sink = logSink();
  const log = pino({ level: 'info', base: { instance } }, sink);
  const docker = new Dockerode();
  const calls = recordApiCalls(docker);

  const redisServer: PrivateRedis = await startPrivateRedis();
  const connection = redisOptions(redisServer.url);
  const redis = new Redis(connection);
  const prefix = `deckhand:${instance}`;
  const backend = new DockerBackend(docker, redis, config, log.child({ component: 'engine' }));
  const queue = new CommandQueue(connection, prefix);
  const workerLog = log.child({ component: 'worker' });
  const worker = startWorker({ connection, prefix, backend, log: workerLog, concurrency: 4 });
  const options = { queue, maxReplicas: config.MAX_REPLICAS, resultTimeoutMs: 300_000 };

  return {
    instance,
    config,
    docker,
    backend,
    ok: async (line) => {
      const outcome = await runLine(line, options, () => undefined);
      if (!outcome.ok) throw new Error(`"${line}" failed: ${outcome.output}`);
      return outcome.output;
    },
    record: () => {
      sink.records.length = 0;
      calls.length = 0;
    },
    take: () => ({ logs: [...sink.records], calls: [...calls] }),
    close: async () => {
      await worker.worker.close(true).catch(() => undefined);
      await queue.close();
      await removeLabelled(docker, instance);
      redis.disconnect();
      await redisServer.stop();
    },
  };
}

/** A pino destination that keeps info records for the bench and passes warnings on to stderr. */
function logSink(): { records: LogRecord[]; write(line: string): void } {
  const records: LogRecord[] = [];
  return {
    records,
    write(line: string) {
      const record = JSON.parse(line) as LogRecord;
      records.push(record);
      if ((record.level ?? 0) >= 40) process.stderr.write(line);
    },
  };
}

// Every dockerode call goes through modem.dial, so wrapping it counts the engine's API traffic.
function recordApiCalls(docker: Dockerode): ApiCall[] {
  const calls: ApiCall[] = [];
  type Callback = (err: unknown, data: unknown) => void;
  type Dial = (options: { path: string; method: string }, callback: Callback) => void;
  const modem = docker.modem as unknown as { dial: Dial };
  const dial = modem.dial.bind(modem);
  modem.dial = (options, callback) => {
    const endpoint = `${options.method} ${endpointOf(options.path)}`;
    const target = /^\/(?:containers|networks|images|exec)\/([^/?]+)/.exec(options.path)?.[1];
    const at = Date.now();
    const started = performance.now();
    dial(options, (err, data) => {
      calls.push({ endpoint, target, at, ms: performance.now() - started });
      callback(err, data);
    });
  };
  return calls;
}

/** `/containers/worker3/start?` becomes `/containers/{id}/start`, so calls group by endpoint. */
export function endpointOf(path: string): string {
  return path
    .replace(/\?.*$/, '')
    .replace(/^\/(containers|networks|images|exec)\/(?!create$|json$|prune$)[^/]+/, '/$1/{id}');
}

/** Removes every container, then every network, that carries `deckhand.instance=<instance>`. */
export async function removeLabelled(docker: Dockerode, instance: string): Promise<void> {
  const filters = { label: [`deckhand.instance=${instance}`] };
  const containers = await docker.listContainers({ all: true, filters });
  const removals = containers.map((c) => docker.getContainer(c.Id).remove({ force: true }));
  await Promise.allSettled(removals);
  for (const n of await docker.listNetworks({ filters })) {
    await docker
      .getNetwork(n.Id)
      .remove()
      .catch(() => undefined);
  }
}

/** Runs `fn` over `items`, at most `limit` at once (a pool, as the floor is measured). */
export async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>) {
  const limited = pLimit(limit);
  await Promise.all(items.map((item) => limited(() => fn(item))));
}

/** Wall-clock milliseconds `fn` took. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

/** The middle value (mean of the two middle ones for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** What one GET came back with: a status and body, or the error that stopped it. */
export interface Answer {
  status?: number;
  body?: string;
  error?: string;
}

/** One GET on a fresh connection; never rejects. */
export function getOnce(port: number, timeoutMs: number): Promise<Answer> {
  const options = { host: '127.0.0.1', port, path: '/', agent: false, timeout: timeoutMs };
  return new Promise((resolve) => {
    const req = http.get({ ...options, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode, body }));
      res.on('error', (err) => resolve({ error: errorCode(err) }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (err) => resolve({ error: errorCode(err) }));
  });
}

function errorCode(err: Error): string {
  return (err as { code?: string }).code ?? err.message;
}

/** The machine a run came from, as one line per fact. */
export function machine(): Record<string, string> {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const cpu = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? '?';
  const format = '{{.Server.Version}} (API {{.Server.APIVersion}})';
  const docker = (() => {
    try {
      return execFileSync('docker', ['version', '--format', format], { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  })();
  return {
    date: new Date().toISOString(),
    cpus: `${os.availableParallelism()} × ${cpu}`,
    memory: `${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    kernel: `${os.type()} ${os.release()}`,
    docker,
    node: process.version,
    'load average at start': os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
  };
}

/** Prints rows as a Markdown table, columns padded so it reads in a terminal too. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** One request that did not come back as a 200, with when it happened and during which step. */
export interface FailedRequest {
  atMs: number;
  phase: string;
  error: string;
}

/** Steady HTTP load on 127.0.0.1:port: a few clients, one GET at a time each, fresh connections. */
export interface Load {
  /** The step the bench is in; each request is booked under the phase it started in. */
  phase: string;
  readonly sent: number;
  readonly ok: number;
  readonly failed: FailedRequest[];
  /** Answers per body ("served by <hostname>"), to see which replicas took traffic. */
  readonly servedBy: Map<string, number>;
  /** Ends the load (after requests in flight finish) and resolves when every client has stopped. */
  stop(): Promise<void>;
}

/** How much load, and its hard bounds: stop(), `maxRequests` or `maxMs`, whichever comes first. */
export interface LoadOptions {
  clients: number;
  maxRequests: number;
  maxMs: number;
  timeoutMs: number;
}

/** Starts `clients` request loops against 127.0.0.1:port, within the bounds of `opts`. */
export function startLoad(port: number, opts: LoadOptions): Load {
  const started = performance.now();
  let stopping = false;
  const load = {
    phase: 'start',
    sent: 0,
    ok: 0,
    failed: [] as FailedRequest[],
    servedBy: new Map<string, number>(),
    stop: async () => {
      stopping = true;
      await done;
    },
  };
  const inBounds = () => load.sent < opts.maxRequests && performance.now() - started < opts.maxMs;
  const more = () => !stopping && inBounds();

  const client = async () => {
    while (more()) {
      load.sent++;
      const phase = load.phase;
      const at = performance.now() - started;
      const answer = await getOnce(port, opts.timeoutMs);
      if (answer.status === 200) {
        load.ok++;
        const body = (answer.body ?? '').trim();
        load.servedBy.set(body, (load.servedBy.get(body) ?? 0) + 1);
      } else {
        const error = answer.error ?? `HTTP ${answer.status}`;
        load.failed.push({ atMs: Math.round(at), phase, error });
      }
    }
  };
  const done = Promise.all(Array.from({ length: opts.clients }, client));
  return load;
}

/** Polls `check` every `everyMs` until it is true or `timeoutMs` passes; says which. */
export async function waitFor(check: () => boolean, timeoutMs: number, everyMs = 50) {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return check();
}
