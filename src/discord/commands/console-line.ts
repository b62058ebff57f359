import { quote } from 'shell-quote';
import { parseCommandLine } from '../../commands/parse.js';
import type { Plan, PlanContext } from './slash-command.js';

/**
 * Turns a slash command into the console line it stands for and parses that line with the console's
 * own parser, so both front ends accept and refuse exactly the same things.
 * `words` are quoted as single arguments; `raw` (docker-run text the user typed) is appended as is.
 */
export function planFromWords(words: string[], ctx: PlanContext, raw?: string): Plan {
  const quoted = quote(words);
  const text = raw === undefined || raw.trim() === '' ? quoted : `${quoted} ${raw.trim()}`;
  const parsed = parseCommandLine(text, { maxReplicas: ctx.maxReplicas });
  if (parsed.kind === 'help') return { kind: 'help' };
  return { kind: 'queue', command: parsed.command, text };
}
