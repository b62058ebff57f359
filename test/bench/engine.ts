import os from 'node:os';
import { pathToFileURL } from 'node:url';
import type Dockerode from 'dockerode';
import { parseCommandLine } from '../../src/commands/parse.js';
import type { RunSpec } from '../../src/core/types.js';
import { replicaCreateOptions } from '../../src/engine/docker/containers.js';
import { replicaName } from '../../src/engine/docker/store.js';
import {
  type ApiCall,
  type BenchEngine,
  type FailedRequest,
  type LogRecord,
  machine,
  median,
  pool,
  startBenchEngine,
  startLoad,
  table,
  timed,
  waitFor,
} from './support.js';

const RUN_LINE = 'run -itd -p 80 nginx:alpine';
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SCALES = Number(process.env.BENCH_SCALES ?? 5);
const LOAD_CYCLES = Number(process.env.BENCH_LOAD_CYCLES ?? 3);
const SCALE_BY = 10;
const DIRECT_PARALLEL = 4;
const TARGET = 1.2;
const LOAD = { clients: 2, maxRequests: 40_000, maxMs: 60_000, timeoutMs: 5_000 };
const LAUNCH_CALLS = ['POST /containers/create', 'POST /containers/{id}/start'];

/** What the direct API path needs: the bench's engine connection, the spec and its own network. */
interface Direct {
  engine: BenchEngine;
  spec: RunSpec;
  network: string;
}

/** What one timed Deckhand command spent where, read from its logs and its Docker API calls. */
interface Parts {
  wallMs: number;
  /** From the worker's "command started" to its "command succeeded". */
  workerMs: number;
  /** Worker start to the first container create: locks, names, image, network, port probe. */
  beforeMs: number;
  /** First container create to the last container start answered. */
  launchMs: number;
  /** Last start answered to the result: reading replica IPs and updating the proxy. */
  afterMs: number;
  /** The proxy's own figure for write, nginx -t, reload and waiting for the new workers. */
  reloadMs: number;
  calls: number;
  execs: number;
}

/** Every figure the engine bench measured, for the caller to print or keep. */
export interface EngineBenchResult {
  machine: Record<string, string>;
  run: { deckhand: Parts[]; direct: number[]; coldMs: number; calls: [string, number][] };
  /** `batched`: the same containers in batches of four, each waiting for its slowest. */
  scale: { deckhand: Parts[]; direct: number[]; batched: number[] };
  load: {
    cycles: number;
    sent: number;
    ok: number;
    failed: (FailedRequest & { cycle: number })[];
    perSecond: number;
    replicasSeen: number[];
  };
}

/** Runs the engine bench: `run` and `scale up 10` against the API, then 1→5→1 under load. */
export async function main(): Promise<EngineBenchResult> {
  const facts = machine();
  console.log('\n## Engine bench\n');
  for (const [k, v] of Object.entries(facts)) console.log(`${k}: ${v}`);

  const engine = await startBenchEngine();
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= engine.close());
  const interrupted = () => {
    console.error('\ninterrupted: removing what the bench made');
    void close().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  try {
    const network = `${engine.instance}-direct`;
    const Labels = benchLabels(engine.instance);
    await engine.docker.createNetwork({ Name: network, Driver: 'bridge', Labels });
    const direct: Direct = { engine, spec: runSpec(RUN_LINE), network };
    const counts = `${RUNS} runs, ${SCALES} scale-ups, ${LOAD_CYCLES} load cycles`;
    console.log(`\ninstance ${engine.instance}: ${counts}`);

    const run = await benchRun(direct);
    const scale = await benchScale(direct);
    const load = await benchLoad(engine);
    const result = { machine: facts, run, scale, load };
    console.log(`\n${report(result)}`);
    console.log(
      `\nload average at end: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    return result;
  } catch (err) {
    // After Ctrl-C the bench's own steps fail as their containers vanish; the exit says enough.
    if (closing) await new Promise(() => undefined);
    throw err;
  } finally {
    process.off('SIGINT', interrupted);
    await close();
  }
}

/** `run` through Deckhand against create+start of the same container with a published port. */
async function benchRun(direct: Direct): Promise<EngineBenchResult['run']> {
  const { engine } = direct;
  // The first run also creates Deckhand's network and proxy; it is reported, not counted.
  const coldMs = await timed(() => engine.ok(RUN_LINE));
  await dropServices(engine);
  await (await directRun(direct, 0)).remove({ force: true });
  console.log(`cold run (creates network and proxy): ${ms(coldMs)}`);

  const deckhand: Parts[] = [];
  const api: number[] = [];
  let calls: [string, number][] = [];
  for (let i = 1; i <= RUNS; i++) {
    engine.record();
    const wallMs = await timed(() => engine.ok(RUN_LINE));
    const taken = engine.take();
    deckhand.push(parts(wallMs, taken.logs, taken.calls));
    if (i === 1) calls = countByEndpoint(taken.calls);
    await dropServices(engine);

    let made: Dockerode.Container | undefined;
    api.push(await timed(async () => (made = await directRun(direct, i))));
    await made?.remove({ force: true });
    console.log(`run ${i}: deckhand ${ms(wallMs)}, direct ${ms(api.at(-1)!)}`);
  }
  return { deckhand, direct: api, coldMs, calls };
}

/** `scale up 10` through Deckhand against creating and starting 10 containers, four at a time. */
async function benchScale(direct: Direct): Promise<EngineBenchResult['scale']> {
  const { engine } = direct;
  const name = `${engine.instance}-web`;
  await engine.ok(`run -itd -p 80 --name ${name} nginx:alpine`);

  const deckhand: Parts[] = [];
  const api: number[] = [];
  const batched: number[] = [];
  for (let i = 1; i <= SCALES; i++) {
    engine.record();
    const wallMs = await timed(() => engine.ok(`scale up ${SCALE_BY} ${name}`));
    const taken = engine.take();
    deckhand.push(parts(wallMs, taken.logs, taken.calls));
    await engine.ok(`scale down ${SCALE_BY} ${name}`);

    const made: Dockerode.Container[] = [];
    const launch = async (n: number) => void made.push(await directCreateStart(direct, n));
    const numbers = Array.from({ length: SCALE_BY }, (_, k) => i * 100 + k);
    api.push(await timed(() => pool(numbers, DIRECT_PARALLEL, launch)));
    await Promise.all(made.splice(0).map((c) => c.remove({ force: true })));

    batched.push(
      await timed(() =>
        batches(
          numbers.map((n) => n + 50),
          DIRECT_PARALLEL,
          launch,
        ),
      ),
    );
    await Promise.all(made.splice(0).map((c) => c.remove({ force: true })));
    console.log(
      `scale up ${SCALE_BY} #${i}: deckhand ${ms(wallMs)}, direct ${ms(api.at(-1)!)}, ` +
        `direct in batches ${ms(batched.at(-1)!)}`,
    );
  }
  return { deckhand, direct: api, batched };
}

/** Scales a service 1→5→1 under steady HTTP load through the proxy; counts failed requests. */
async function benchLoad(engine: BenchEngine): Promise<EngineBenchResult['load']> {
  const name = `${engine.instance}-web`;
  const port = (await engine.backend.store.get(name))?.spec.ports[0]?.hostPort;
  if (!port) throw new Error(`${name} publishes no port`);

  const result: EngineBenchResult['load'] = {
    cycles: LOAD_CYCLES,
    sent: 0,
    ok: 0,
    failed: [],
    perSecond: 0,
    replicasSeen: [],
  };
  let loadMs = 0;
  for (let cycle = 1; cycle <= LOAD_CYCLES; cycle++) {
    const started = performance.now();
    const load = startLoad(port, LOAD);
    try {
      load.phase = 'before';
      await waitFor(() => load.ok >= 20, 5_000);
      load.phase = 'scale up 4';
      await engine.ok(`scale up 4 ${name}`);

      // Every replica must have answered before scale down, or the test would prove little.
      load.phase = 'at 5 replicas';
      await waitFor(() => load.servedBy.size >= 5, 10_000);
      result.replicasSeen.push(load.servedBy.size);

      load.phase = 'scale down 4';
      await engine.ok(`scale down 4 ${name}`);
      load.phase = 'after';
      const okAfter = load.ok;
      await waitFor(() => load.ok >= okAfter + 20, 5_000);
    } finally {
      await load.stop();
    }
    loadMs += performance.now() - started;
    result.sent += load.sent;
    result.ok += load.ok;
    result.failed.push(...load.failed.map((f) => ({ ...f, cycle })));
    console.log(
      `load cycle ${cycle}: ${load.sent} requests, ${load.failed.length} failed, ` +
        `${load.servedBy.size} replicas answered`,
    );
  }
  result.perSecond = result.sent / (loadMs / 1000);
  return result;
}

/** Runs `fn` over `items` in fixed batches of `size`, each batch waiting for its slowest. */
async function batches<T>(items: T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

function runSpec(line: string): RunSpec {
  const parsed = parseCommandLine(line, { maxReplicas: 20 });
  if (parsed.kind === 'command' && parsed.command.kind === 'run') return parsed.command.spec;
  throw new Error(`${line} is no run`);
}

function benchLabels(instance: string): Record<string, string> {
  return { 'deckhand.instance': instance, 'deckhand.role': 'bench' };
}

/** Deckhand's own create request for a replica, on the bench's network and with bench labels. */
function directOptions(direct: Direct, n: number): Dockerode.ContainerCreateOptions {
  const { engine, spec, network } = direct;
  const name = `${engine.instance}-direct`;
  const options = replicaCreateOptions(name, n + 1, spec, engine.config, 'bench');
  const HostConfig = { ...options.HostConfig, NetworkMode: network };
  return { ...options, Labels: benchLabels(engine.instance), HostConfig };
}

async function directCreateStart(direct: Direct, n: number): Promise<Dockerode.Container> {
  const container = await direct.engine.docker.createContainer(directOptions(direct, n));
  await container.start();
  return container;
}

/** `docker run -d -p 127.0.0.1::80`: Docker publishes the port, as without Deckhand. */
async function directRun(direct: Direct, n: number): Promise<Dockerode.Container> {
  const options = directOptions(direct, n);
  const binding = [{ HostIp: '127.0.0.1', HostPort: '' }];
  const ports = direct.spec.ports.map((p) => [`${p.containerPort}/${p.protocol}`, binding]);
  const HostConfig = { ...options.HostConfig, PortBindings: Object.fromEntries(ports) };
  const container = await direct.engine.docker.createContainer({ ...options, HostConfig });
  await container.start();
  return container;
}

/** Removes every Deckhand service outside the timed part: record, then containers, then proxy. */
async function dropServices(engine: BenchEngine): Promise<void> {
  for (const record of await engine.backend.store.all()) {
    await engine.backend.store.delete(record.name);
    const names = record.replicas.map((n) => replicaName(record.name, n));
    await Promise.all(names.map((c) => engine.docker.getContainer(c).remove({ force: true })));
  }
  await engine.backend.refreshProxy();
}

function parts(wallMs: number, logs: LogRecord[], calls: ApiCall[]): Parts {
  const time = (msg: string) => Number(logs.find((l) => l.msg === msg)?.time ?? NaN);
  const started = time('command started');
  const succeeded = time('command succeeded');
  const launches = calls.filter((c) => LAUNCH_CALLS.includes(c.endpoint));
  const firstCreate = Math.min(...launches.map((c) => c.at));
  const lastStarted = Math.max(...launches.map((c) => c.at + c.ms));
  const reloads = logs.filter((l) => l.msg === 'proxy reloaded');
  return {
    wallMs,
    workerMs: succeeded - started,
    beforeMs: firstCreate - started,
    launchMs: lastStarted - firstCreate,
    afterMs: succeeded - lastStarted,
    reloadMs: reloads.reduce((sum, l) => sum + Number(l.reloadMs ?? 0), 0),
    calls: calls.length,
    execs: calls.filter((c) => c.endpoint === 'POST /containers/{id}/exec').length,
  };
}

function countByEndpoint(calls: ApiCall[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const c of calls) counts.set(c.endpoint, (counts.get(c.endpoint) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1]);
}

const ms = (value: number) => `${Math.round(value)} ms`;
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
const verdict = (met: boolean, target: string) => `${target}: ${met ? 'met' : 'missed'}`;

/** One summary row: medians, bests, their ratios, and whether the medians meet the target. */
function overheadRow(label: string, deckhand: number[], direct: number[]): string[] {
  const [d, a] = [median(deckhand), median(direct)];
  const [bd, ba] = [Math.min(...deckhand), Math.min(...direct)];
  return [
    label,
    `${ms(d)} (${ms(bd)})`,
    `${ms(a)} (${ms(ba)})`,
    `${ratio(d, a)} (${ratio(bd, ba)})`,
    verdict(d / a <= TARGET, `≤ ${TARGET}×`),
  ];
}

/** The tables the bench prints, as Markdown so they can go into BENCHMARKS.md as they are. */
export function report(r: EngineBenchResult): string {
  const wall = (list: Parts[]) => list.map((p) => p.wallMs);
  const failed = r.load.failed.length;
  const summary = table(
    ['measure', 'Deckhand median (best)', 'direct API median (best)', 'ratio (of bests)', 'target'],
    [
      overheadRow(`\`${RUN_LINE}\` ×${RUNS}`, wall(r.run.deckhand), r.run.direct),
      overheadRow(`\`scale up ${SCALE_BY}\` ×${SCALES}`, wall(r.scale.deckhand), r.scale.direct),
      [
        `failed requests, 1→5→1 ×${r.load.cycles} under load`,
        `${failed} of ${r.load.sent}`,
        '—',
        '—',
        verdict(failed === 0, '0'),
      ],
    ],
  );

  const both = (f: (p: Parts) => number, show = ms) =>
    [r.run.deckhand, r.scale.deckhand].map((list) => show(median(list.map(f))));
  const count = (n: number) => String(n);
  const breakdown = table(
    ['where Deckhand spends it (medians)', 'run', `scale up ${SCALE_BY}`],
    [
      ['console → queue → worker → result, wall', ...both((p) => p.wallMs)],
      ['  queue round trip (wall − worker)', ...both((p) => p.wallMs - p.workerMs)],
      ['  before the first create: locks, names, image, port probe', ...both((p) => p.beforeMs)],
      ['  containers: first create → last start answered', ...both((p) => p.launchMs)],
      ['  after the last start: replica IPs, proxy config + reload', ...both((p) => p.afterMs)],
      ['    of which write + nginx -t + reload + wait for new workers', ...both((p) => p.reloadMs)],
      ['  Docker API calls per command', ...both((p) => p.calls, count)],
      ['  of which execs in the proxy', ...both((p) => p.execs, count)],
      ['direct API: create + start, wall', ms(median(r.run.direct)), ms(median(r.scale.direct))],
      ['direct API in batches of 4, as Deckhand launches', '—', ms(median(r.scale.batched))],
    ],
  );

  const load = [
    `load: 2 clients, one GET per fresh connection to 127.0.0.1:<published port>; ` +
      `${r.load.sent} requests (${Math.round(r.load.perSecond)}/s), ${r.load.ok} answered 200; ` +
      `replicas that answered at 5: ${r.load.replicasSeen.join(', ')}`,
    ...r.load.failed
      .slice(0, 20)
      .map((f) => `  failed: cycle ${f.cycle} at ${f.atMs} ms during "${f.phase}": ${f.error}`),
  ].join('\n');
  const calls = `API calls of one run: ${r.run.calls.map(([e, n]) => `${n}× ${e}`).join(', ')}`;
  return [summary, '', breakdown, '', load, '', calls].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
