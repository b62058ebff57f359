import { randomBytes } from 'node:crypto';
import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Logger } from 'pino';
import type { Backend } from '../core/backend.js';
import { UserError, isTransient } from '../core/errors.js';
import type { CommandJob, CommandResult } from '../core/types.js';
import { commandsTotal, jobDuration } from '../ops/metrics.js';
import { encodeFailure } from './failure.js';
import { handle } from './handlers.js';
import { COMMAND_QUEUE } from './queue.js';

/** Hooks run around every command; recovery uses them to reconcile before and after. */
export interface CommandHooks {
  before?(job: CommandJob, log: Logger): Promise<void>;
  after?(
    job: CommandJob,
    log: Logger,
    outcome: 'ok' | 'user_error' | 'internal_error',
  ): Promise<void>;
}

export interface WorkerOptions {
  connection: ConnectionOptions;
  prefix: string;
  backend: Backend;
  log: Logger;
  concurrency: number;
  hooks?: CommandHooks;
  /** How long a job's lock lasts without renewal; a dead worker's job is handed out again after it. */
  lockMs?: number;
}

/** A running worker and the clean way to stop it. */
export interface CommandWorker {
  worker: Worker<CommandJob, CommandResult>;
  /**
   * Takes no new jobs, lets running ones finish for `graceMs`, then aborts them so they fail
   * cleanly with a reply instead of staying active.
   */
  shutdown(graceMs: number): Promise<void>;
}

/** Thrown into a job that the shutting-down worker had to abort. */
export class ShutdownError extends UserError {
  constructor() {
    super(
      'interrupted: the worker shut down before this command finished; check list, and run it again if needed',
    );
  }
}

/** How often progress lines are flushed to whoever waits, at most. */
const PROGRESS_FLUSH_MS = 250;

/** Takes commands off the queue and carries them out through the backend. */
export function startWorker(options: WorkerOptions): CommandWorker {
  const { backend, log, hooks } = options;
  const running = new Set<AbortController>();
  const worker = new Worker<CommandJob, CommandResult>(
    COMMAND_QUEUE,
    async (job) => {
      const jobLog = log.child({
        jobId: job.id,
        command: job.data.command.kind,
        user: job.data.requester.userName ?? job.data.requester.userId,
        source: job.data.requester.source,
        attempt: job.attemptsMade + 1,
      });
      const progress = progressSink(job);
      const started = Date.now();
      const abort = new AbortController();
      running.add(abort);
      jobLog.info({ text: job.data.text }, 'command started');
      try {
        await hooks?.before?.(job.data, jobLog);
        const ctx = { jobId: job.id!, log: jobLog, progress: progress.push, signal: abort.signal };
        const result = await untilAborted(handle(backend, job.data.command, ctx), abort.signal);
        await progress.flush();
        jobLog.info({ ms: Date.now() - started, summary: result.summary }, 'command succeeded');
        record(job.name, 'ok', started);
        await hooks?.after?.(job.data, jobLog, 'ok');
        return result;
      } catch (err) {
        await progress.flush().catch(() => undefined);
        const outcome = await failure(err, job, jobLog, Date.now() - started, hooks);
        if (outcome instanceof UnrecoverableError)
          record(job.name, err instanceof UserError ? 'user_error' : 'internal_error', started);
        throw outcome;
      } finally {
        running.delete(abort);
      }
    },
    {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      // A job whose worker died is handed out again (the handlers converge), a few times at most.
      maxStalledCount: 2,
      ...(options.lockMs ? { lockDuration: options.lockMs, stalledInterval: options.lockMs } : {}),
    },
  );
  worker.on('error', (err) => log.error({ err }, 'worker connection error'));
  return {
    worker,
    shutdown: async (graceMs) => {
      const closing = worker.close();
      const timer = setTimeout(() => {
        if (running.size)
          log.warn(
            { jobs: running.size, graceMs },
            'grace period over: aborting the commands still running',
          );
        for (const abort of running) abort.abort(new ShutdownError());
      }, graceMs);
      try {
        await closing;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Counts a finished command for /metrics; a retried attempt is counted when it finally ends. */
function record(
  command: string,
  outcome: 'ok' | 'user_error' | 'internal_error',
  started: number,
): void {
  commandsTotal.inc({ command, outcome });
  jobDuration.observe({ command }, (Date.now() - started) / 1000);
}

/** Resolves with the work, or rejects with the abort reason as soon as the signal fires. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Turns any error into what BullMQ should do with the job: retry, or fail with a readable reason. */
async function failure(
  err: unknown,
  job: Job<CommandJob>,
  log: Logger,
  ms: number,
  hooks?: CommandHooks,
): Promise<Error> {
  if (err instanceof UserError) {
    log.info({ ms, reason: err.message, ...err.context }, 'command refused or failed for the user');
    await hooks?.after?.(job.data, log, 'user_error').catch(() => undefined);
    return new UnrecoverableError(encodeFailure({ kind: 'user', message: err.message }));
  }
  const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  if (isTransient(err) && !lastAttempt) {
    log.warn({ err, ms }, 'command hit a dropped connection; it will be retried');
    return err as Error;
  }
  const ref = randomBytes(4).toString('hex');
  log.error({ err, ms, ref }, 'command failed with an internal error');
  await hooks?.after?.(job.data, log, 'internal_error').catch(() => undefined);
  return new UnrecoverableError(
    encodeFailure({ kind: 'internal', message: 'internal error', ref }),
  );
}

/** Batches progress lines so a chatty build costs a Redis write per quarter second, not per line. */
function progressSink(job: Job) {
  let pending: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<unknown> = Promise.resolve();
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return chain;
    const lines = pending;
    pending = [];
    chain = chain.then(() => job.updateProgress({ lines })).catch(() => undefined);
    return chain;
  };
  return {
    push: (line: string) => {
      pending.push(line);
      timer ??= setTimeout(flush, PROGRESS_FLUSH_MS);
    },
    flush: () => flush(),
  };
}
