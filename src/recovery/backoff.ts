import type { Config } from '../core/config.js';

/**
 * How Deckhand treats a replica that keeps dying.
 *
 * - The first restart of a streak happens at once: most crashes are one-offs, and every
 *   millisecond of waiting is downtime (Docker waits 100 ms, Swarm a fixed 5 s).
 * - Later restarts in the same streak wait CRASHLOOP_BACKOFF_MS (1 s), doubling each time up to
 *   CRASHLOOP_BACKOFF_MAX_MS (30 s): 0, 1, 2, 4, 8 s. Kubernetes starts at 10 s and caps at 5 min;
 *   Deckhand starts lower because it gives up instead of retrying forever.
 * - A streak ends after CRASHLOOP_RESET_MS (60 s) of clean running since the last restart, so a
 *   replica that crashes once a day is always restarted at once (Kubernetes resets after 10 min).
 * - After CRASHLOOP_MAX_RESTARTS (5) restarts within CRASHLOOP_WINDOW_MS (2 min) a further death
 *   means give up: the replica is marked crash-looping and left alone until `start`. With the
 *   defaults a replica that dies at once is given up about 15 s after its first crash, after five
 *   attempts, instead of filling the disk with restarts (moby #17272). The window must hold the
 *   backoffs of MAX restarts (1+2+4+8 s here), else a slow loop is never given up.
 * - A restarted replica counts as recovered once it has run RECOVERY_SETTLE_MS (5 s); only then
 *   is the "recovered" alert posted, so a replica that dies again at once gives no alert until
 *   the streak ends one way or the other.
 */
export interface CrashLoopSettings {
  maxRestarts: number;
  windowMs: number;
  backoffMs: number;
  backoffMaxMs: number;
  resetMs: number;
  settleMs: number;
}

/** The crash-loop settings from configuration. */
export function crashLoopSettings(config: Config): CrashLoopSettings {
  return {
    maxRestarts: config.CRASHLOOP_MAX_RESTARTS,
    windowMs: config.CRASHLOOP_WINDOW_MS,
    backoffMs: config.CRASHLOOP_BACKOFF_MS,
    backoffMaxMs: config.CRASHLOOP_BACKOFF_MAX_MS,
    resetMs: config.CRASHLOOP_RESET_MS,
    settleMs: config.RECOVERY_SETTLE_MS,
  };
}

/** What recovery has done to one replica in its current streak of deaths. */
export interface Streak {
  /** When each restart of this streak happened (ms since epoch). */
  restarts: number[];
}

/** What to do with a replica that is down. */
export type Decision =
  | { action: 'restart' }
  | { action: 'wait'; until: number }
  | { action: 'give-up'; restarts: number };

/** Wait before the next restart, after `restarts` restarts in this streak: 0, then base doubling to the cap. */
export function backoffDelay(restarts: number, s: CrashLoopSettings): number {
  if (restarts <= 0) return 0;
  return Math.min(s.backoffMaxMs, s.backoffMs * 2 ** Math.min(restarts - 1, 30));
}

/** True when the replica ran cleanly long enough since the streak's last restart that a death starts afresh. */
export function startsNewStreak(streak: Streak, diedAt: number, s: CrashLoopSettings): boolean {
  const last = streak.restarts.at(-1);
  return last === undefined || diedAt - last >= s.resetMs;
}

/** Decides, for a replica found down at `now`, whether to restart it now, later, or never. */
export function decide(streak: Streak, now: number, s: CrashLoopSettings): Decision {
  const recent = streak.restarts.filter((t) => now - t < s.windowMs);
  if (recent.length >= s.maxRestarts) return { action: 'give-up', restarts: recent.length };
  const last = streak.restarts.at(-1);
  if (last === undefined) return { action: 'restart' };
  const until = last + backoffDelay(streak.restarts.length, s);
  return until <= now ? { action: 'restart' } : { action: 'wait', until };
}
