import { randomUUID } from 'node:crypto';
import { Job, Queue, QueueEvents, type ConnectionOptions } from 'bullmq';
import type { CommandJob, CommandResult } from '../core/types.js';
import { JobFailedError, decodeFailure } from './failure.js';

/** The queue every front end puts commands on; the worker takes them off. */
export const COMMAND_QUEUE = 'commands';

/** Thrown when Redis cannot take the command in time; nothing was queued. */
export class QueueUnavailableError extends Error {
  override readonly name = 'QueueUnavailableError';
}

export interface WaitOptions {
  onProgress?: (line: string) => void;
  timeoutMs: number;
}

/** Front-end side of the command queue: submit a command, follow its progress, get its result. */
export class CommandQueue {
  readonly queue: Queue<CommandJob, CommandResult>;
  private events?: QueueEvents;

  constructor(
    private readonly connection: ConnectionOptions,
    readonly prefix: string,
  ) {
    // A producer must fail fast while Redis is away, not queue commands in memory.
    this.queue = new Queue(COMMAND_QUEUE, {
      connection: { ...(connection as object), enableOfflineQueue: false, maxRetriesPerRequest: 1 },
      prefix,
    });
    this.queue.on('error', () => undefined);
  }

  /** Puts one command on the queue under a fresh unique id and returns that id. */
  async submit(payload: CommandJob, submitTimeoutMs = 2000): Promise<string> {
    const jobId = randomUUID();
    const add = this.queue.add(payload.command.kind, payload, {
      jobId,
      attempts: 3,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: { age: 3600, count: 1000 },
      removeOnFail: { age: 24 * 3600, count: 1000 },
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new QueueUnavailableError('the command queue (Redis) did not answer in time')),
        submitTimeoutMs,
      );
    });
    try {
      await Promise.race([add, timeout]);
    } catch (err) {
      if (err instanceof QueueUnavailableError) {
        // The add may still land once Redis answers; take it back so a command reported as not
        // queued does not run later. A worker that already holds it keeps it (remove fails).
        add.then((job) => job.remove()).catch(() => undefined);
        throw err;
      }
      throw new QueueUnavailableError(
        `the command queue (Redis) is unavailable: ${(err as Error).message}`,
      );
    } finally {
      clearTimeout(timer);
    }
    return jobId;
  }

  /** Waits, bounded, for the job's result; progress lines are passed on as they arrive. */
  async wait(jobId: string, options: WaitOptions): Promise<CommandResult> {
    const events = await this.queueEvents();
    const onProgress = ({ jobId: id, data }: { jobId: string; data: unknown }) => {
      if (id !== jobId || !options.onProgress) return;
      const lines = (data as { lines?: unknown } | null)?.lines;
      for (const line of Array.isArray(lines) ? lines : [data]) options.onProgress(String(line));
    };
    events.on('progress', onProgress);
    try {
      const job = await Job.fromId<CommandJob, CommandResult>(this.queue, jobId);
      if (!job)
        throw new JobFailedError(
          { kind: 'internal', message: `job ${jobId} is no longer known to the queue` },
          jobId,
        );
      // The event can slip past a listener that only just connected; a slow poll catches that.
      const polling = new AbortController();
      try {
        return await Promise.race([
          job.waitUntilFinished(events, options.timeoutMs),
          this.pollFinished(job, polling.signal),
        ]);
      } finally {
        polling.abort();
      }
    } catch (err) {
      if (err instanceof JobFailedError) throw err;
      const message = (err as Error).message ?? String(err);
      if (/timed out/i.test(message)) {
        throw new JobFailedError(
          {
            kind: 'internal',
            message: `no result after ${Math.round(options.timeoutMs / 1000)} s; the job may still be running`,
          },
          jobId,
        );
      }
      throw new JobFailedError(decodeFailure(message), jobId);
    } finally {
      events.off('progress', onProgress);
    }
  }

  /** Resolves (or rejects) once the job is found finished, checking every second until aborted. */
  private async pollFinished(
    job: Job<CommandJob, CommandResult>,
    signal: AbortSignal,
  ): Promise<CommandResult> {
    while (!signal.aborted) {
      await new Promise((r) => setTimeout(r, 1000).unref());
      if (signal.aborted) break;
      const state = await job.getState().catch(() => 'unknown');
      if (state === 'completed' || state === 'failed') {
        const done = await Job.fromId<CommandJob, CommandResult>(this.queue, job.id!);
        if (state === 'completed') return done!.returnvalue;
        throw new Error(done?.failedReason ?? 'the job failed');
      }
    }
    return new Promise<never>(() => undefined);
  }

  /** Submits and waits in one step, for the console and scripts. */
  async run(
    payload: CommandJob,
    options: WaitOptions,
  ): Promise<{ jobId: string; result: CommandResult }> {
    // Listen before submitting, so a result that comes back at once is not missed.
    await this.queueEvents();
    const jobId = await this.submit(payload);
    return { jobId, result: await this.wait(jobId, options) };
  }

  private async queueEvents(): Promise<QueueEvents> {
    if (!this.events) {
      this.events = new QueueEvents(COMMAND_QUEUE, {
        connection: this.connection,
        prefix: this.prefix,
      });
      this.events.on('error', () => undefined);
      await this.events.waitUntilReady();
    }
    return this.events;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.events?.close(), this.queue.close()]);
  }
}
