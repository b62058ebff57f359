import type Dockerode from 'dockerode';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { UserError, dockerStatus } from '../core/errors.js';
import type { RecoveryPolicy } from '../engine/docker/docker-backend.js';
import { LABEL } from '../engine/docker/labels.js';
import type { AlertSink } from './alert-sink.js';
import { type CrashLoopSettings, backoffDelay, decide, startsNewStreak } from './backoff.js';
import { logTail } from './log-tail.js';

/** One replica's streak as kept in Redis, so every Deckhand process sharing it agrees. */
interface ReplicaStreak {
  restarts: number[];
  /** Identifies the death last looked at, so its facts are read once however often it is seen. */
  death?: string;
  /** When the replica first went down in this streak. */
  downSince?: number;
  exitCode?: number;
  oom?: boolean;
  removed?: boolean;
  logTail?: string[];
  restartedAt?: number;
}

export interface PolicyOptions {
  docker: Dockerode;
  redis: Redis;
  prefix: string;
  settings: CrashLoopSettings;
  alerts: AlertSink;
  log: Logger;
  /** Asks to have the service recovered again at `at` (a backoff ends, or a vanishing container is gone). */
  wake(service: string, at: number): void;
  /** Asks to have `settle()` called at `at`. */
  settleAt(at: number): void;
}

/**
 * Crash-loop backoff and alerting for recovery, one streak per replica, kept in Redis. Every hook is
 * called under the service's lock, so no two recoveries change one replica's streak at once; the
 * alerts are claimed with atomic Redis writes, so the event, schedule and command paths never
 * alert one incident twice.
 */
export class CrashLoopPolicy implements RecoveryPolicy {
  private readonly s: CrashLoopSettings;

  constructor(private readonly o: PolicyOptions) {
    this.s = o.settings;
  }

  private key(container: string): string {
    return `${this.o.prefix}:recovery:replica:${container}`;
  }

  private get loopingKey(): string {
    return `${this.o.prefix}:recovery:looping`;
  }

  private get settlingKey(): string {
    return `${this.o.prefix}:recovery:settling`;
  }

  async mayRestart(container: string, service: string): Promise<boolean> {
    const [looping, streak, info] = await Promise.all([
      this.o.redis.sismember(this.loopingKey, container),
      this.read(container),
      this.inspect(container),
    ]);
    if (looping) return false;

    const now = Date.now();
    const finished = info ? Date.parse(info.State.FinishedAt) : Number.NaN;
    const diedAt = finished > 0 ? finished : now;
    let current = streak;
    if (streak.restarts.length > 0 && startsNewStreak(streak, diedAt, this.s)) {
      await this.o.redis.del(this.key(container));
      current = { restarts: [] };
    }

    const death = info
      ? `${info.Id}:${info.State.FinishedAt}`
      : `missing:${current.restarts.length}`;
    if (current.death !== death)
      current = await this.noteDeath(container, service, current, death, diedAt, info);

    const decision = decide(current, now, this.s);
    if (decision.action === 'restart') return true;
    if (decision.action === 'wait') {
      this.o.log.debug(
        { service, container, retryInMs: decision.until - now },
        'replica is backing off before its next restart',
      );
      this.o.wake(service, decision.until);
      return false;
    }
    await this.giveUp(container, service, current, decision.restarts);
    return false;
  }

  async restarted(container: string, service: string): Promise<void> {
    const now = Date.now();
    const streak = await this.read(container);
    const restarts = [
      ...streak.restarts.filter((t) => now - t < Math.max(this.s.windowMs, this.s.resetMs)),
      now,
    ];
    await this.o.redis
      .multi()
      .hset(this.key(container), {
        service,
        restarts: JSON.stringify(restarts),
        restartedAt: String(now),
      })
      .pexpire(this.key(container), this.ttlMs())
      .zadd(this.settlingKey, now + this.s.settleMs, container)
      .exec();
    this.o.log.info(
      {
        service,
        container,
        restarts: restarts.length,
        nextBackoffMs: backoffDelay(restarts.length, this.s),
      },
      'recovery restarted replica',
    );
    this.o.settleAt(now + this.s.settleMs);
  }

  async failed(container: string, service: string, err: unknown): Promise<void> {
    const status = dockerStatus(err);
    if (status === 404 || status === 409) {
      // The container is being removed under us; its destroy event (or a moment) lets it be re-created.
      this.o.wake(service, Date.now() + 300);
      return;
    }
    const now = Date.now();
    const streak = await this.read(container);
    const restarts = [...streak.restarts, now];
    await this.o.redis
      .multi()
      .hset(this.key(container), { service, restarts: JSON.stringify(restarts) })
      .pexpire(this.key(container), this.ttlMs())
      .exec();
    const until = now + backoffDelay(restarts.length, this.s);
    this.o.wake(service, until);

    const reason = err instanceof UserError ? err.message : ((err as Error).message ?? String(err));
    if (!(await this.claim(container, 'recovery-failed'))) return;
    await this.o.alerts.send({
      kind: 'recovery-failed',
      service,
      container,
      message: `Deckhand could not restart ${container}: ${reason}. It tries again with backoff.`,
      exitCode: streak.exitCode,
      oom: streak.oom,
      logTail: streak.logTail,
      at: new Date(now).toISOString(),
    });
  }

  async crashLooping(): Promise<Set<string>> {
    return new Set(await this.o.redis.smembers(this.loopingKey));
  }

  async clear(containers: string[]): Promise<void> {
    if (containers.length === 0) return;
    await this.o.redis
      .multi()
      .del(...containers.map((c) => this.key(c)))
      .srem(this.loopingKey, ...containers)
      .zrem(this.settlingKey, ...containers)
      .exec();
  }

  /** True when recovery would leave this down replica alone right now (backing off, or given up). */
  async holding(container: string): Promise<boolean> {
    if (await this.o.redis.sismember(this.loopingKey, container)) return true;
    return decide(await this.read(container), Date.now(), this.s).action !== 'restart';
  }

  /** Posts "recovered" for replicas that have run the settle time since their restart, once a streak. */
  async settle(): Promise<void> {
    const now = Date.now();
    const due = await this.o.redis.zrangebyscore(this.settlingKey, 0, now);
    for (const container of due) {
      // Whoever removes the entry posts the alert; another process finds it gone.
      if ((await this.o.redis.zrem(this.settlingKey, container)) !== 1) continue;
      const info = await this.inspect(container);
      if (!info?.State.Running) continue;
      const streak = await this.read(container);
      const service = info.Config.Labels?.[LABEL.service] ?? container;
      if (!(await this.claim(container, 'recovered'))) continue;
      const downMs =
        streak.downSince !== undefined && streak.restartedAt !== undefined
          ? Math.max(0, streak.restartedAt - streak.downSince)
          : undefined;
      await this.o.alerts.send({
        kind: 'recovered',
        service,
        container,
        message: recoveredText(container, streak),
        exitCode: streak.exitCode,
        oom: streak.oom,
        downMs,
        logTail: streak.logTail,
        at: new Date(now).toISOString(),
      });
    }
    const next = await this.o.redis.zrange(this.settlingKey, 0, 0, 'WITHSCORES');
    if (next[1] !== undefined) this.o.settleAt(Number(next[1]));
  }

  /** Forgets crash-loop marks of replicas no service has any more (scaled down, quit). */
  async prune(existing: Set<string>): Promise<void> {
    const marked = await this.o.redis.smembers(this.loopingKey);
    const gone = marked.filter((c) => !existing.has(c));
    if (gone.length > 0) await this.clear(gone);
  }

  private async noteDeath(
    container: string,
    service: string,
    streak: ReplicaStreak,
    death: string,
    diedAt: number,
    info: Dockerode.ContainerInspectInfo | undefined,
  ): Promise<ReplicaStreak> {
    const tail = info ? await logTail(this.o.docker, container, !!info.Config.Tty) : [];
    const noted: ReplicaStreak = {
      ...streak,
      death,
      downSince: streak.downSince ?? diedAt,
      exitCode: info?.State.ExitCode,
      oom: info?.State.OOMKilled ?? false,
      removed: !info,
      logTail: tail,
    };
    const fields: Record<string, string> = {
      service,
      death,
      downSince: String(noted.downSince),
      oom: noted.oom ? '1' : '0',
      removed: noted.removed ? '1' : '0',
      logTail: JSON.stringify(tail),
    };
    if (noted.exitCode !== undefined) fields.exitCode = String(noted.exitCode);
    await this.o.redis
      .multi()
      .hset(this.key(container), fields)
      .pexpire(this.key(container), this.ttlMs())
      .exec();
    this.o.log.warn(
      {
        service,
        container,
        exitCode: noted.exitCode,
        oom: noted.oom,
        removed: noted.removed,
        restartsInStreak: streak.restarts.length,
      },
      info ? 'protected replica died' : 'protected replica was removed outside Deckhand',
    );
    return noted;
  }

  private async giveUp(
    container: string,
    service: string,
    streak: ReplicaStreak,
    restarts: number,
  ): Promise<void> {
    if ((await this.o.redis.sadd(this.loopingKey, container)) !== 1) return;
    await this.o.redis.zrem(this.settlingKey, container);
    const span =
      streak.restarts.length > 1
        ? ` in ${Math.round((streak.restarts.at(-1)! - streak.restarts[0]!) / 1000)} s`
        : '';
    const exit = streak.oom
      ? ' (killed for lack of memory)'
      : streak.exitCode !== undefined
        ? ` (exit code ${streak.exitCode})`
        : '';
    await this.o.alerts.send({
      kind: 'crash-looping',
      service,
      container,
      message: `${container} kept dying${exit}: restarted ${restarts} time${restarts === 1 ? '' : 's'}${span}. Deckhand stopped restarting it; \`start ${container}\` tries again.`,
      exitCode: streak.exitCode,
      oom: streak.oom,
      logTail: streak.logTail,
      at: new Date().toISOString(),
    });
  }

  /** True for the first caller in this streak to claim the alert kind. */
  private async claim(container: string, kind: string): Promise<boolean> {
    const won = (await this.o.redis.hsetnx(this.key(container), `alerted:${kind}`, '1')) === 1;
    if (won) await this.o.redis.pexpire(this.key(container), this.ttlMs());
    return won;
  }

  private async read(container: string): Promise<ReplicaStreak> {
    const h = await this.o.redis.hgetall(this.key(container));
    const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
    return {
      restarts: h.restarts ? (JSON.parse(h.restarts) as number[]) : [],
      death: h.death,
      downSince: num(h.downSince),
      exitCode: num(h.exitCode),
      oom: h.oom === '1',
      removed: h.removed === '1',
      logTail: h.logTail ? (JSON.parse(h.logTail) as string[]) : undefined,
      restartedAt: num(h.restartedAt),
    };
  }

  private inspect(container: string): Promise<Dockerode.ContainerInspectInfo | undefined> {
    return this.o.docker
      .getContainer(container)
      .inspect()
      .catch((err) => {
        if (dockerStatus(err) === 404) return undefined;
        throw err;
      });
  }

  // A streak outlives its window and its reset time, then Redis forgets it.
  private ttlMs(): number {
    return 2 * Math.max(this.s.windowMs, this.s.resetMs) + this.s.settleMs;
  }
}

function recoveredText(container: string, streak: ReplicaStreak): string {
  const what = streak.removed
    ? `${container} was removed outside Deckhand and was re-created from its spec`
    : `${container} died${streak.oom ? ' (killed for lack of memory)' : streak.exitCode !== undefined ? ` (exit code ${streak.exitCode})` : ''} and was restarted`;
  const n = streak.restarts.length;
  return `${what}${n > 1 ? ` after ${n} attempts` : ''}; it is running again.`;
}
