import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { JobFailedError } from '../jobs/failure.js';
import type { CommandQueue } from '../jobs/queue.js';
import type { AuditLog } from './audit.js';
import type { AutocompleteCache } from './autocomplete.js';
import type { PendingReplies, PendingReply } from './pending-replies.js';
import { renderFailure, renderProgress, renderResult } from './render.js';
import type { InteractionReply } from './reply.js';

export interface FollowDeps {
  queue: CommandQueue;
  audit: AuditLog;
  cache: AutocompleteCache;
  pending: PendingReplies;
  log: Logger;
  /** False once the bot is stopping; an unanswered job is then left for the next run. */
  active: () => boolean;
}

/**
 * Waits, bounded, for a queued job and answers with its result or its failure, showing progress
 * on the way; once answered, the job's pending reply is cleared.
 */
export async function followJob(
  d: FollowDeps,
  job: Omit<PendingReply, 'target'>,
  reply: InteractionReply,
): Promise<void> {
  const { jobId, text, who } = job;
  const log = d.log.child({ jobId, user: who.userId, command: text });
  const audit = (outcome: 'succeeded' | 'failed', detail?: string) =>
    void d.audit.record({ ...who, command: text, outcome, jobId, detail });

  const lines: string[] = [];
  const timeoutMs = Math.max(1, job.until - Date.now());
  const waiting = Date.now();
  reply.progress(renderProgress(`\`${text}\``, lines));

  try {
    const result = await d.queue.wait(jobId, {
      timeoutMs,
      onProgress: (line) => {
        lines.push(line);
        if (lines.length > 200) lines.shift();
        reply.progress(renderProgress(`\`${text}\``, lines));
      },
    });
    d.cache.observe(result);
    void d.cache.refresh();
    await reply.finish(renderResult(result));
    audit('succeeded');
  } catch (err) {
    if (!(err instanceof JobFailedError)) throw err;
    const { kind, message } = err.failure;

    if (kind === 'internal' && !err.failure.ref && Date.now() - waiting >= timeoutMs - 100) {
      log.warn({ timeoutMs }, 'no result in time; the job may still be running');
      await reply.fail(
        `⌛ No result after ${formatWait(job.until - waiting)}; \`${text}\` may still be running. ` +
          'Check /list before trying again.',
      );
      audit('failed', 'no result in time');
    } else if (kind === 'user') {
      await reply.fail(renderFailure('user', message));
      audit('failed', message.split('\n')[0]);
    } else {
      const ref = err.failure.ref ?? randomBytes(4).toString('hex');
      if (!err.failure.ref) log.error({ ref, reason: message }, 'command did not finish');
      await reply.fail(renderFailure('internal', message, ref));
      audit('failed', `internal error ${ref}`);
    }
  } finally {
    await reply.settle();
    if (d.active()) await d.pending.forget(jobId);
  }
}

function formatWait(ms: number): string {
  return ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} minutes`;
}
