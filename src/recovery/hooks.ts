import type { CommandHooks } from '../jobs/worker.js';
import type { Reconciler } from './reconciler.js';

/** Commands that need no recovery around them: `quit` removes everything, `recovery` is one. */
const SKIP = new Set(['quit', 'recovery']);

/**
 * Recovery before and after every command, as users of the earlier tool expect: one engine call
 * when nothing is wrong. Before a command, the service it is about to change is left to it.
 * A failing check is logged and never fails the command.
 */
export function recoveryHooks(reconciler: Reconciler): CommandHooks {
  return {
    async before(job, log) {
      if (SKIP.has(job.command.kind)) return;
      const named = 'name' in job.command ? job.command.name : undefined;
      const skip = new Set(named ? [named, named.replace(/-r\d+$/, '')] : []);
      await reconciler
        .check('before-command', skip)
        .catch((err) => log.warn({ err }, 'recovery before the command failed'));
    },
    async after(job, log) {
      if (SKIP.has(job.command.kind)) return;
      await reconciler
        .check('after-command')
        .catch((err) => log.warn({ err }, 'recovery after the command failed'));
    },
  };
}
