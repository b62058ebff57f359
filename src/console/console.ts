import readline from 'node:readline';
import type { Writable, Readable } from 'node:stream';
import { parseCommandLine } from '../commands/parse.js';
import { helpText } from '../commands/help.js';
import { UserError } from '../core/errors.js';
import type { Requester } from '../core/types.js';
import { JobFailedError } from '../jobs/failure.js';
import type { CommandQueue } from '../jobs/queue.js';
import { formatResult } from './format.js';

export interface ConsoleOptions {
  queue: CommandQueue;
  maxReplicas: number;
  resultTimeoutMs: number;
  requester?: Requester;
  /** Subscribes to lines printed between commands (alerts); returns how to stop. */
  follow?: (print: (text: string) => void) => { stop(): Promise<void> };
}

/** What one typed line came to: the text to print and whether it succeeded. */
export interface LineOutcome {
  ok: boolean;
  output: string;
}

/** Parses one line, runs it through the queue and returns what to print; progress goes to `onProgress`. */
export async function runLine(
  line: string,
  options: ConsoleOptions,
  onProgress: (line: string) => void,
): Promise<LineOutcome> {
  const requester: Requester = options.requester ?? {
    source: 'console',
    userName: process.env.USER ?? 'console',
  };
  let parsed;
  try {
    parsed = parseCommandLine(line, { maxReplicas: options.maxReplicas });
  } catch (err) {
    if (err instanceof UserError) return { ok: false, output: `error: ${err.message}` };
    throw err;
  }
  if (parsed.kind === 'help') return { ok: true, output: helpText(parsed.topic) };
  try {
    const { result } = await options.queue.run(
      { command: parsed.command, requester, text: line.trim() },
      { onProgress, timeoutMs: options.resultTimeoutMs },
    );
    return { ok: true, output: formatResult(result) };
  } catch (err) {
    if (err instanceof JobFailedError) return { ok: false, output: `error: ${err.message}` };
    return { ok: false, output: `error: ${(err as Error).message}` };
  }
}

/** The interactive `deckhand> ` console; resolves when the input ends. */
export async function runConsole(
  options: ConsoleOptions,
  input: Readable = process.stdin,
  output: Writable = process.stdout,
): Promise<void> {
  const rl = readline.createInterface({
    input,
    output,
    prompt: 'deckhand> ',
    terminal: (input as { isTTY?: boolean }).isTTY ?? false,
  });
  output.write('Deckhand console. Type help for the commands, Ctrl-D to leave.\n');
  // Alerts arrive between commands: print them above the prompt, then show the prompt again.
  const following = options.follow?.((text) => {
    output.write(`\r${text}\n`);
    rl.prompt(true);
  });
  rl.prompt();
  for await (const line of rl) {
    if (line.trim() === '') {
      rl.prompt();
      continue;
    }
    if (['exit', 'bye'].includes(line.trim())) break;
    const outcome = await runLine(line, options, (p) => output.write(`  … ${p}\n`));
    output.write(`${outcome.output}\n`);
    rl.prompt();
  }
  rl.close();
  await following?.stop();
}
