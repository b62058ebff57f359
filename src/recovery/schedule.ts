import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import type { Logger } from 'pino';

/** The queue the scheduled recovery passes travel on, apart from commands. */
export const RECOVERY_QUEUE = 'recovery';

/** The one job scheduler every Deckhand process upserts; same id, so never a second copy. */
export const RECOVERY_SCHEDULER = 'recovery-pass';

export interface ScheduleOptions {
  connection: ConnectionOptions;
  prefix: string;
  everyMs: number;
  log: Logger;
  /** One recovery pass over everything. */
  run(): Promise<unknown>;
}

/** The scheduled safety net: its queue, its worker, and a watch that puts the schedule back. */
export interface RecoverySchedule {
  queue: Queue;
  /** Upserts the schedule (idempotent). */
  ensure(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Upserts the recovery job scheduler (BullMQ's job schedulers replace an existing one of the same
 * id, so restarts and interval changes leave exactly one, at the newest interval), runs its jobs,
 * and checks once an interval that the scheduler still exists: after Redis restarts empty it is
 * put back without restarting Deckhand.
 */
export async function startRecoverySchedule(o: ScheduleOptions): Promise<RecoverySchedule> {
  const log = o.log.child({ component: 'recovery-schedule' });
  const queue = new Queue(RECOVERY_QUEUE, { connection: o.connection, prefix: o.prefix });
  queue.on('error', (err) => log.debug({ err: err.message }, 'recovery queue connection error'));

  const ensure = async () => {
    await queue.upsertJobScheduler(
      RECOVERY_SCHEDULER,
      { every: o.everyMs },
      {
        name: 'recovery-pass',
        data: {},
        opts: { removeOnComplete: { count: 200 }, removeOnFail: { count: 200 } },
      },
    );
  };
  await ensure();
  log.info({ everyMs: o.everyMs }, 'recovery schedule in place');

  const worker = new Worker(RECOVERY_QUEUE, async () => o.run(), {
    connection: o.connection,
    prefix: o.prefix,
    concurrency: 1,
  });
  worker.on('error', (err) => log.debug({ err: err.message }, 'recovery worker connection error'));
  worker.on('failed', (_job, err) => log.warn({ err }, 'scheduled recovery pass failed'));

  let checking = false;
  const watch = setInterval(() => {
    if (checking) return;
    checking = true;
    queue
      .getJobScheduler(RECOVERY_SCHEDULER)
      .then(async (found) => {
        if (found) return;
        await ensure();
        log.warn(
          { everyMs: o.everyMs },
          'recovery schedule was missing (Redis lost it); put it back',
        );
      })
      .catch((err) =>
        log.debug({ err: err.message }, 'could not check the recovery schedule; will look again'),
      )
      .finally(() => (checking = false));
  }, o.everyMs);
  watch.unref();

  return {
    queue,
    ensure,
    async stop() {
      clearInterval(watch);
      await worker.close();
      await queue.close();
    },
  };
}
