import type { Alert } from '../discord/alerts.js';

const mark: Record<Alert['kind'], string> = {
  crashed: 'crashed',
  recovered: 'recovered',
  'crash-looping': 'CRASH-LOOPING',
  'recovery-failed': 'RECOVERY FAILED',
};

/** One line for the console: what happened, to which container, with the facts that matter. */
export function alertText(alert: Alert): string {
  const facts = [
    alert.exitCode !== undefined ? `exit ${alert.exitCode}` : '',
    alert.oom ? 'OOM' : '',
    alert.downMs !== undefined ? `down ${(alert.downMs / 1000).toFixed(1)} s` : '',
  ].filter(Boolean);
  const last = alert.logTail?.at(-1);
  return [
    `[alert] ${mark[alert.kind] ?? alert.kind} ${alert.container}: ${alert.message}`,
    facts.length ? ` (${facts.join(', ')})` : '',
    last ? `\n        last log line: ${last.slice(0, 160)}` : '',
  ].join('');
}
