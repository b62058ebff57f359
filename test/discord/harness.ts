import { randomBytes } from 'node:crypto';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { loadConfig, type Config } from '../../src/core/config.js';
import { redisOptions } from '../../src/core/redis.js';
import type { CommandJob, CommandResult } from '../../src/core/types.js';
import { startBot, type Bot, type BotOptions } from '../../src/discord/bot.js';
import { encodeFailure } from '../../src/jobs/failure.js';
import { COMMAND_QUEUE, CommandQueue } from '../../src/jobs/queue.js';
import { DiscordStandIn } from './stand-in/stand-in.js';

/**
 * How the stand-in worker answers a job. This worker exists only to test the Discord front end's
 * own behaviour (acknowledging, pacing, confirming, refusing, falling back) without Docker; the
 * commands carried out for real are covered end to end against the real worker elsewhere.
 */
export type Answer = (job: Job<CommandJob, CommandResult>) => Promise<CommandResult>;

/** Throws the way the real worker fails a job on bad input. */
export function userFailure(message: string): never {
  throw new UnrecoverableError(encodeFailure({ kind: 'user', message }));
}

const defaultAnswers: Record<string, Answer> = {
  list: async () => ({
    summary: '1 service',
    services: [
      {
        name: 'worker1',
        image: 'image_1',
        state: 'running',
        running: 2,
        desired: 2,
        ports: ['0.0.0.0:20001->80/tcp'],
        protected: true,
        replicas: [],
      },
    ],
  }),
  stop: async (job) => ({ summary: `stopped ${(job.data.command as { name: string }).name}` }),
  start: async (job) => ({ summary: `started ${(job.data.command as { name: string }).name}` }),
  scale: async (job) => ({ summary: `scaled ${(job.data.command as { name: string }).name}` }),
  quit: async () => ({ summary: 'removed everything' }),
  recovery: async () => ({ summary: 'nothing to recover' }),
  run: async () => ({ summary: 'worker1 running' }),
  build: async (job) => {
    await job.updateProgress({
      lines: ['Step 1/3 : FROM debian:bookworm-slim', 'Step 2/3 : RUN apt-get install -y curl'],
    });
    return { summary: 'Built image_7', image: 'image_7' };
  },
};

export interface HarnessOptions {
  redisUrl: string;
  env?: Record<string, string>;
  answers?: Record<string, Answer>;
  bot?: Partial<BotOptions>;
  /** Start without the stand-in worker: jobs wait in the queue, or a real worker on `prefix` takes them. */
  noWorker?: boolean;
  /** Queue prefix; a fresh one by default. */
  prefix?: string;
}

/** A stand-in Discord, a real Redis-backed queue, a table-driven worker, and the real bot. */
export interface Harness {
  standIn: DiscordStandIn;
  bot: Bot;
  queue: CommandQueue;
  redis: Redis;
  config: Config;
  prefix: string;
  /** Jobs the worker took, in order. */
  jobs: CommandJob[];
  /** Log lines (JSON) the bot wrote. */
  logs: string[];
  log: Logger;
  stop(): Promise<void>;
}

/** Starts everything a front-end test needs, on a fresh queue prefix. */
export async function startHarness(o: HarnessOptions): Promise<Harness> {
  const standIn = await new DiscordStandIn().start();
  const prefix = o.prefix ?? `t-discord-${randomBytes(4).toString('hex')}`;
  const config = loadConfig({
    DISCORD_TOKEN: standIn.token,
    DISCORD_API_BASE: standIn.apiBase,
    DISCORD_GUILD_ID: standIn.guildId,
    DISCORD_ALERT_CHANNEL_ID: standIn.alertChannelId,
    MYIMAGES_DIR: 'myimages',
    COMMANDS_PER_MINUTE: '1000',
    ...o.env,
  });

  const logs: string[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) });
  const connection = redisOptions(o.redisUrl);
  const queue = new CommandQueue(connection, prefix);
  const redis = new Redis({ ...connection, lazyConnect: false });
  redis.on('error', () => undefined);

  const jobs: CommandJob[] = [];
  const answers = { ...defaultAnswers, ...o.answers };
  const worker = o.noWorker
    ? undefined
    : new Worker<CommandJob, CommandResult>(
        COMMAND_QUEUE,
        async (job) => {
          jobs.push(job.data);
          const answer = answers[job.data.command.kind];
          if (!answer)
            throw new UnrecoverableError(
              encodeFailure({ kind: 'internal', message: 'internal error', ref: 'nohandlr' }),
            );
          return answer(job);
        },
        { connection, prefix, concurrency: 4 },
      );
  worker?.on('error', () => undefined);

  const bot = await startBot({
    config,
    queue,
    redis,
    log,
    readyTimeoutMs: 10_000,
    pacing: { minEditMs: 300, slowNoticeMs: 1500, submitTimeoutMs: 8000 },
    alerts: { groupWindowMs: 300, minIntervalMs: 200 },
    ...o.bot,
  });

  return {
    standIn,
    bot,
    queue,
    redis,
    config,
    prefix,
    jobs,
    logs,
    log,
    async stop() {
      await bot.stop();
      await worker?.close();
      await queue.close();
      const keys = await redis.keys(`${prefix}:*`).catch(() => []);
      if (keys.length > 0) await redis.del(...keys).catch(() => undefined);
      redis.disconnect();
      await standIn.close();
    },
  };
}

/** Collects unhandled rejections so a test can fail on them. */
export function watchUnhandled(): { errors: unknown[]; dispose(): void } {
  const errors: unknown[] = [];
  const onRejection = (err: unknown) => errors.push(err);
  process.on('unhandledRejection', onRejection);
  return { errors, dispose: () => process.off('unhandledRejection', onRejection) };
}
