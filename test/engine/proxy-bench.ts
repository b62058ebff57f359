import { randomBytes } from 'node:crypto';
import Dockerode from 'dockerode';
import { pino } from 'pino';
import { loadConfig } from '../../src/core/config.js';
import { Proxy, type ProxyService } from '../../src/engine/docker/proxy.js';

// Times Proxy.apply() against a real proxy container: `npx tsx test/engine/proxy-bench.ts`.
// PROXY_BENCH_APPLIES sets how many changing applies are timed (default 20). No traffic is sent:
// the backends are addresses nginx only writes into its upstreams.

const docker = new Dockerode();
const instance = `t-pxbench-${randomBytes(4).toString('hex')}`;
const applies = Number(process.env.PROXY_BENCH_APPLIES ?? 20);
const config = loadConfig({
  DECKHAND_INSTANCE: instance,
  DECKHAND_PROXY_NAME: `${instance}-proxy`,
});
const proxy = new Proxy(docker, config, pino({ level: 'silent' }));

const service = (port: number, backends: string[]): ProxyService => ({
  name: 'web',
  ports: [{ hostIp: '127.0.0.1', hostPort: port, containerPort: 80, protocol: 'tcp' }],
  backends,
});

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await run();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function summary(ms: number[]): string {
  const sorted = [...ms].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
  const f = (n: number) => `${n.toFixed(0)} ms`;
  return `median ${f(median)}, mean ${f(mean)}, min ${f(sorted[0]!)}, max ${f(sorted.at(-1)!)}`;
}

try {
  await proxy.ensure();
  const port = await proxy.freeHostPort([20000, 29999], new Set(), 'tcp');
  const sets = [
    ['192.0.2.2', '192.0.2.3'],
    ['192.0.2.2', '192.0.2.3', '192.0.2.4'],
  ];
  await proxy.apply([service(port, sets[1]!)]);

  const changing: number[] = [];
  for (let i = 0; i < applies; i++)
    changing.push(await timed(() => proxy.apply([service(port, sets[i % 2]!)])));
  const unchanged: number[] = [];
  for (let i = 0; i < 5; i++)
    unchanged.push(await timed(() => proxy.apply([service(port, sets[(applies - 1) % 2]!)])));

  console.log(`apply, config changed  x${applies}: ${summary(changing)}`);
  console.log(`apply, config unchanged x5: ${summary(unchanged)}`);
} finally {
  await proxy.remove();
}
