import { UserError } from '../core/errors.js';
import type { Command } from '../core/types.js';
import { COMMAND_USAGE, helpText } from './help.js';
import { parseRunArgs } from './run-args.js';
import { show } from './show.js';
import { tokenize } from './tokenize.js';
import {
  parseCount,
  parsePort,
  validateFileName,
  validatePackageName,
  validateServiceName,
  validateTargetName,
} from './validate.js';

/** What a typed line asks for: help, or a command to put on the queue. */
export type ParsedLine = { kind: 'help'; topic?: string } | { kind: 'command'; command: Command };

/** Options that bound what a line may ask for. */
export interface ParseOptions {
  maxReplicas: number;
}

type Handler = (args: string[], options: ParseOptions) => Command;

// The grammar is a handful of fixed words, so a table keyed on the first word reads it; the one
// place with real options, `run`, goes to commander through parseRunArgs.
const COMMANDS: Record<string, Handler> = {
  build: (args) => ({ kind: 'build', build: buildRequest(args) }),
  run: (args) => ({ kind: 'run', spec: parseRunArgs(args) }),
  scale: (args, options) => scale(args, options),
  stop: (args) => ({ kind: 'stop', name: validateTargetName(exactly('stop', args, 1)[0]) }),
  start: (args) => ({ kind: 'start', name: validateTargetName(exactly('start', args, 1)[0]) }),
  list: (args) => (exactly('list', args, 0), { kind: 'list' }),
  recovery: (args) => (exactly('recovery', args, 0), { kind: 'recovery' }),
  quit: (args) => (exactly('quit', args, 0), { kind: 'quit' }),
};

/** Reads one line of console or chat text into help or a validated Command; bad input throws. */
export function parseCommandLine(line: string, options: ParseOptions): ParsedLine {
  const [word, ...args] = tokenize(line);
  if (word === undefined) throw new UserError(`type a command\n\n${helpText()}`);

  const name = word.toLowerCase();
  if (name === 'help') {
    const topic = args.length > 0 ? args.join(' ').toLowerCase() : undefined;
    if (topic !== undefined) helpText(topic);
    return topic === undefined ? { kind: 'help' } : { kind: 'help', topic };
  }

  const handler = COMMANDS[name];
  if (!handler) {
    throw new UserError(`unknown command ${show(word)}\n\n${helpText()}`, { value: word });
  }
  return { kind: 'command', command: handler(args, options) };
}

function buildRequest(args: string[]): Extract<Command, { kind: 'build' }>['build'] {
  const [variant = '', ...rest] = args;

  switch (variant.toLowerCase()) {
    case 'copy':
      return { variant: 'copy', file: validateFileName(exactly('build copy', rest, 1)[0]) };
    case 'install':
      return { variant: 'install', pkg: validatePackageName(exactly('build install', rest, 1)[0]) };
    case 'both': {
      const [pkg, file] = exactly('build both', rest, 2);
      return { variant: 'both', pkg: validatePackageName(pkg), file: validateFileName(file) };
    }
    case 'netcat':
      return { variant: 'netcat', port: parsePort(exactly('build netcat', rest, 1)[0]) };
    default:
      throw new UserError(
        `${variant ? `unknown build kind ${show(variant)}` : 'build needs a kind'}; ` +
          `usage: ${COMMAND_USAGE.build}`,
      );
  }
}

function scale(args: string[], options: ParseOptions): Command {
  const [direction, count, name] = exactly('scale', args, 3);
  const dir = direction.toLowerCase();
  if (dir !== 'up' && dir !== 'down') {
    throw new UserError(
      `scale goes up or down, not ${show(direction)}; usage: ${COMMAND_USAGE.scale}`,
    );
  }
  return {
    kind: 'scale',
    direction: dir,
    count: parseCount(count, options.maxReplicas),
    name: validateServiceName(name),
  };
}

const USAGE_OF: Record<string, string> = {
  'build copy': 'build copy FILE',
  'build install': 'build install PKG',
  'build both': 'build both PKG FILE',
  'build netcat': 'build netcat PORT',
};

/** The arguments, checked to be exactly n, typed as a tuple so callers can destructure them. */
function exactly<N extends number>(what: string, args: string[], n: N): Tuple<N> {
  if (args.length !== n) {
    const usage = USAGE_OF[what] ?? COMMAND_USAGE[what] ?? what;
    const got = args.length === 0 ? 'none' : args.map(show).join(' ');
    const plural = n === 1 ? '' : 's';
    throw new UserError(`${what} takes ${n} argument${plural}, got ${got}; usage: ${usage}`);
  }
  return args as Tuple<N>;
}

type Tuple<N extends number, T extends string[] = []> = T['length'] extends N
  ? T
  : Tuple<N, [...T, string]>;
