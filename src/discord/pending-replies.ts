import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AuditEntry } from './audit.js';
import type { ReplyTarget } from './reply.js';

/** A reply the bot still owes: which job, whom to answer, and until when it is worth waiting. */
export interface PendingReply {
  jobId: string;
  target: ReplyTarget;
  who: Pick<AuditEntry, 'userId' | 'userName' | 'guildId' | 'channelId'>;
  text: string;
  /** Epoch ms after which the job's result is no longer awaited. */
  until: number;
}

/**
 * Replies owed for queued jobs, kept in Redis so a bot that restarts mid-command still answers.
 * Writes are best effort: losing one costs only that answer, never the command.
 */
export class PendingReplies {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {}

  private get key(): string {
    return `${this.prefix}:discord:pending`;
  }

  /** Notes that a reply is owed for this job. */
  async remember(p: PendingReply): Promise<void> {
    await this.redis
      .hset(this.key, p.jobId, JSON.stringify(p))
      .catch((err: unknown) =>
        this.log.warn({ err, jobId: p.jobId }, 'could not note a pending reply'),
      );
  }

  /** Notes that the reply was given. */
  async forget(jobId: string): Promise<void> {
    await this.redis
      .hdel(this.key, jobId)
      .catch((err: unknown) => this.log.warn({ err, jobId }, 'could not clear a pending reply'));
  }

  /** Replies still owed and still worth waiting for; stale ones are dropped. */
  async all(now = Date.now()): Promise<PendingReply[]> {
    const raw = await this.redis.hgetall(this.key);
    const owed: PendingReply[] = [];
    const stale: string[] = [];

    for (const [jobId, value] of Object.entries(raw)) {
      try {
        const p = JSON.parse(value) as PendingReply;
        if (p.until > now) owed.push(p);
        else stale.push(jobId);
      } catch {
        stale.push(jobId);
      }
    }
    if (stale.length > 0) await this.redis.hdel(this.key, ...stale);
    return owed;
  }
}
