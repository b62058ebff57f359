import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { OperationContext } from '../core/backend.js';
import type { CommandResult } from '../core/types.js';
import type { DockerBackend } from '../engine/docker/docker-backend.js';
import { listReplicas } from '../engine/docker/inventory.js';
import { replicaName } from '../engine/docker/store.js';
import type { CrashLoopPolicy } from './crash-loop-policy.js';
import { downReplicas } from './down-replicas.js';

/** What set a recovery off, for logs. */
export type Trigger =
  'event' | 'schedule' | 'before-command' | 'after-command' | 'backoff' | 'reconnect' | 'startup';

/** While a command holds a service, recovery looks again this often, this many times, then leaves it to the command's after-hook. */
const BUSY_RETRY_MS = 250;
const BUSY_RETRIES = 12;

/**
 * Runs recovery through the backend: one service at a time per service (a request arriving while
 * one runs makes it run once more, so no death is missed), timers for backoffs and settling.
 */
export class Reconciler {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly passes = new Set<Promise<unknown>>();
  private readonly again = new Set<string>();
  private readonly wakes = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private settleTimer?: { at: number; timer: NodeJS.Timeout };
  private stopped = false;

  constructor(
    private readonly backend: DockerBackend,
    private readonly policy: () => CrashLoopPolicy,
    private readonly log: Logger,
  ) {}

  /** Recovers one service now. */
  service(name: string, trigger: Trigger): Promise<void> {
    const running = this.inFlight.get(name);
    if (running) {
      this.again.add(name);
      return running;
    }
    const run = (async () => {
      try {
        do {
          this.again.delete(name);
          await this.recoverOnce(name, trigger);
        } while (this.again.has(name) && !this.stopped);
      } finally {
        this.inFlight.delete(name);
      }
    })();
    this.inFlight.set(name, run);
    return run;
  }

  /** Recovers every service (the safety net), posts due "recovered" alerts and forgets stale marks. */
  all(trigger: Trigger): Promise<CommandResult> {
    const pass = this.pass(trigger);
    this.passes.add(pass);
    pass.finally(() => this.passes.delete(pass)).catch(() => undefined);
    return pass;
  }

  private async pass(trigger: Trigger): Promise<CommandResult> {
    const started = Date.now();
    const result = await this.backend.recover(this.ctx(trigger));
    await this.policy().settle();
    const records = await this.backend.records();
    await this.policy().prune(
      new Set(records.flatMap((r) => r.replicas.map((n) => replicaName(r.name, n)))),
    );
    const level = result.details?.length ? 'info' : 'debug';
    this.log[level]({ trigger, ms: Date.now() - started, fixed: result.details }, 'recovery pass');
    return result;
  }

  /** Recovers the services that have a protected replica down, if any; one engine call when none has. */
  async check(trigger: Trigger, skip: Set<string> = new Set()): Promise<void> {
    const needed = new Set(
      (await this.down()).filter((d) => !skip.has(d.service)).map((d) => d.service),
    );
    await Promise.all([...needed].map((s) => this.service(s, trigger)));
  }

  /** Recovers the service again at `at` (when its backoff ends). */
  wake(service: string, at: number): void {
    if (this.stopped) return;
    const existing = this.wakes.get(service);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(
      () => {
        this.wakes.delete(service);
        this.service(service, 'backoff').catch((err) =>
          this.log.warn({ service, err }, 'recovery after backoff failed'),
        );
      },
      Math.max(0, at - Date.now()),
    );
    timer.unref();
    this.wakes.set(service, { at, timer });
  }

  /** Runs the policy's settle check at `at`. */
  settleAt(at: number): void {
    if (this.stopped || (this.settleTimer && this.settleTimer.at <= at)) return;
    if (this.settleTimer) clearTimeout(this.settleTimer.timer);
    const timer = setTimeout(
      () => {
        this.settleTimer = undefined;
        this.policy()
          .settle()
          .catch((err) => this.log.warn({ err }, 'posting recovered alerts failed'));
      },
      Math.max(0, at - Date.now()) + 20,
    );
    timer.unref();
    this.settleTimer = { at, timer };
  }

  /** Stops timers and waits for recoveries under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.wakes.values()) clearTimeout(w.timer);
    this.wakes.clear();
    if (this.settleTimer) clearTimeout(this.settleTimer.timer);
    await Promise.allSettled([...this.inFlight.values(), ...this.passes]);
  }

  private async recoverOnce(service: string, trigger: Trigger): Promise<void> {
    try {
      for (let attempt = 0; attempt < BUSY_RETRIES && !this.stopped; attempt++) {
        const started = Date.now();
        const result = await this.backend.recover(this.ctx(trigger), service);
        if (result.details?.length)
          this.log.info(
            { service, trigger, ms: Date.now() - started, fixed: result.details },
            'recovery pass',
          );

        // A replica still down that the policy is not holding back means a command held the service.
        const left = (await this.down()).filter((d) => d.service === service);
        const waiting = await Promise.all(left.map((d) => this.policy().holding(d.container)));
        if (waiting.every(Boolean)) return;
        await sleep(BUSY_RETRY_MS);
      }
      this.log.debug(
        { service, trigger },
        "service stays busy; its command's after-hook or the schedule recovers it",
      );
    } catch (err) {
      this.log.warn(
        { service, trigger, err },
        'recovery of service failed; the schedule tries again',
      );
    }
  }

  private async down() {
    const [records, live] = await Promise.all([
      this.backend.records(),
      listReplicas(
        this.backend.docker,
        this.backend.config.DECKHAND_INSTANCE,
        this.backend.config.network,
      ),
    ]);
    return downReplicas(records, live);
  }

  private ctx(trigger: Trigger): OperationContext {
    const jobId = `recovery-${trigger}-${randomBytes(4).toString('hex')}`;
    return { jobId, log: this.log.child({ jobId, trigger }), progress: () => undefined };
  }
}
