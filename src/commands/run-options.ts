import type { RunSpec } from '../core/types.js';
import { parseRunArgs } from './run-args.js';
import { tokenize } from './tokenize.js';

/** Structured `run` options, as a form or a slash command collects them. */
export interface RunOptionsInput {
  image: string;
  /** The container's command as typed, split like a shell line (quotes group). */
  command?: string;
  /** One or more `-p` specs separated by spaces or commas, e.g. "8080:80, 443". */
  publish?: string;
  name?: string;
  /** KEY=VALUE pairs separated by spaces; quote a value that has spaces: A="x y" B=2. */
  env?: string;
  interactive?: boolean;
  tty?: boolean;
  /** Defaults to true: a chat front end has nothing to attach to. */
  detach?: boolean;
}

/** Builds docker-run arguments from structured options and reads them with parseRunArgs. */
export function runSpecFromOptions(input: RunOptionsInput): RunSpec {
  const argv: string[] = [];

  if (input.interactive) argv.push('-i');
  if (input.tty) argv.push('-t');
  if (input.detach ?? true) argv.push('-d');
  for (const spec of tokenize(input.publish ?? '')
    .flatMap((w) => w.split(','))
    .filter(Boolean)) {
    argv.push('-p', spec);
  }
  for (const pair of tokenize(input.env ?? '')) argv.push('-e', pair);
  if (input.name !== undefined) argv.push('--name', input.name);

  // `--` ends the options, so an image field holding "--privileged" is read as an image (and
  // refused by the reference grammar) rather than as a flag.
  argv.push('--', input.image, ...tokenize(input.command ?? ''));
  return parseRunArgs(argv);
}
