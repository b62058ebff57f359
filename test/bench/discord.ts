import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import Dockerode from 'dockerode';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { loadConfig } from '../../src/core/config.js';
import { redisOptions, startPrivateRedis } from '../../src/core/redis.js';
import { DockerBackend } from '../../src/engine/docker/docker-backend.js';
import { startWorker } from '../../src/jobs/worker.js';
import { benchDiscord, type DiscordBench } from '../discord/bench.js';
import { machine, removeLabelled, table } from './support.js';

const RUNS = Number(process.env.BENCH_DISCORD_RUNS ?? 300);

const row = (what: string, b: DiscordBench) => [
  what,
  String(b.runs),
  `${b.ackMs.p50} / ${b.ackMs.p99} / ${b.ackMs.max}`,
  `${b.listMs.p50} / ${b.listMs.p99} / ${b.listMs.max}`,
];

/**
 * Interaction → acknowledgement and interaction → final `list` reply, through the real discord.js
 * client and the Discord stand-in: once with the front-end test worker (the bot and queue alone),
 * once with the real worker and Docker engine behind the queue.
 */
export async function main(): Promise<void> {
  const redisServer = await startPrivateRedis();
  const instance = `b${randomBytes(3).toString('hex')}`;
  const docker = new Dockerode();
  const connection = redisOptions(redisServer.url);
  const redis = new Redis(connection);
  const prefix = `deckhand:${instance}`;
  const config = loadConfig({ DECKHAND_INSTANCE: instance, LOG_LEVEL: 'warn' });
  const log = pino({ level: 'warn' });
  const worker = startWorker({
    connection,
    prefix,
    backend: new DockerBackend(docker, redis, config, log),
    log,
    concurrency: 4,
  });
  try {
    const frontEnd = await benchDiscord({ redisUrl: redisServer.url, runs: RUNS });
    const real = await benchDiscord({
      redisUrl: redisServer.url,
      runs: RUNS,
      noWorker: true,
      prefix,
    });
    console.log(
      `\nDiscord front end (${RUNS} sequential /list interactions each), ms p50 / p99 / max`,
    );
    console.log(
      table(
        ['behind the queue', 'runs', 'interaction → ack', 'interaction → final list reply'],
        [row('front-end test worker', frontEnd), row('real worker + Docker engine', real)],
      ),
    );
    console.log(
      `target: acknowledgement p99 < 100 ms: ${real.ackMs.p99 < 100 && frontEnd.ackMs.p99 < 100 ? 'met' : 'missed'}`,
    );
    console.log(JSON.stringify(machine()));
  } finally {
    await worker.shutdown(0);
    await removeLabelled(docker, instance);
    redis.disconnect();
    await redisServer.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
