import { Command, CommanderError } from 'commander';

import { UserError } from '../core/errors.js';
import type { PortSpec, RunSpec } from '../core/types.js';
import { COMMAND_USAGE } from './help.js';
import { validateImageRef } from './image-ref.js';
import { parsePublish } from './publish.js';
import { REFUSED_FLAGS } from './refused-flags.js';
import { parseCpus, parseMemory } from './resources.js';
import { parseEnv, parseHostname, parseLabel, parseUser, parseWorkdir } from './run-values.js';
import { show } from './show.js';
import { validateServiceName } from './validate.js';

const SUPPORTED =
  '-i -t -d, -p/--publish, -e/--env, --name, -w/--workdir, -u/--user, --entrypoint, ' +
  '-l/--label, -m/--memory, --cpus, -h/--hostname';

/**
 * Reads docker-run arguments (options, then IMAGE, then the container's command) into a RunSpec.
 * Option parsing stops at IMAGE; everything after it is the container's, passed on untouched.
 */
export function parseRunArgs(argv: string[]): RunSpec {
  const nul = argv.find((arg) => arg.includes('\0'));
  if (nul !== undefined) throw new UserError(`run: ${show(nul)} contains a NUL character`);

  const program = runProgram();
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    throw err instanceof CommanderError ? fromCommander(err) : err;
  }

  const [image, cmd] = program.processedArgs as [string | undefined, string[]];
  if (image === undefined) {
    throw new UserError(`run needs an IMAGE after its options\n${COMMAND_USAGE.run}`);
  }

  const o = program.opts<RunOptions>();
  refuseSharedHostPorts(o.publish);
  return {
    image: validateImageRef(image),
    ...(cmd.length > 0 && { cmd }),
    ...(o.entrypoint !== undefined && { entrypoint: o.entrypoint === '' ? [] : [o.entrypoint] }),
    ...(o.name !== undefined && { name: o.name }),
    env: o.env,
    labels: Object.fromEntries(o.label),
    ports: o.publish,
    interactive: o.interactive ?? false,
    tty: o.tty ?? false,
    detach: o.detach ?? false,
    ...(o.workdir !== undefined && { workdir: o.workdir }),
    ...(o.user !== undefined && { user: o.user }),
    ...(o.hostname !== undefined && { hostname: o.hostname }),
    ...(o.memory !== undefined && { memoryBytes: o.memory }),
    ...(o.cpus !== undefined && { nanoCpus: o.cpus }),
  };
}

interface RunOptions {
  interactive?: true;
  tty?: true;
  detach?: true;
  publish: PortSpec[];
  env: string[];
  label: [string, string][];
  name?: string;
  workdir?: string;
  user?: string;
  entrypoint?: string;
  memory?: number;
  cpus?: number;
  hostname?: string;
}

function runProgram(): Command {
  return new Command('run')
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} })
    .helpOption(false)
    .passThroughOptions()
    .allowExcessArguments(true)
    .option('-i, --interactive', 'keep stdin open')
    .option('-t, --tty', 'allocate a terminal')
    .option('-d, --detach', 'run in the background')
    .option('-p, --publish <spec>', 'publish a port', many('-p', parsePublish), [])
    .option('-e, --env <KEY=VALUE>', 'set a variable', many('-e', parseEnv), [])
    .option('-l, --label <key=value>', 'add a label', many('-l', parseLabel), [])
    .option('--name <name>', 'service name', one('--name', validateServiceName))
    .option('-w, --workdir <dir>', 'working directory', one('-w', parseWorkdir))
    .option('-u, --user <user[:group]>', 'user to run as', one('-u', parseUser))
    .option(
      '--entrypoint <cmd>',
      'override the entrypoint',
      one('--entrypoint', (v) => v),
    )
    .option('-m, --memory <size>', 'memory limit', one('-m', parseMemory))
    .option('--cpus <n>', 'CPU limit', one('--cpus', parseCpus))
    .option('-h, --hostname <name>', 'container host name', one('-h', parseHostname))
    .argument('[image]')
    .argument('[command...]');
}

// commander takes the next word as an option's value even when it starts with -, which would turn
// `-p -d` into a port named "-d"; a value that looks like a flag is reported as a missing value.
function one<T>(flag: string, parse: (value: string) => T): (value: string) => T {
  return (value) => {
    if (value.startsWith('-')) {
      throw new UserError(`run option ${flag} needs a value, but got the flag ${show(value)}`);
    }
    return parse(value);
  };
}

function many<T>(flag: string, parse: (value: string) => T): (value: string, prev: T[]) => T[] {
  const read = one(flag, parse);
  return (value, prev) => [...prev, read(value)];
}

// Two bindings of one host port cannot both be served, whichever address each names.
function refuseSharedHostPorts(ports: PortSpec[]): void {
  const seen = new Set<string>();
  for (const port of ports) {
    if (port.hostPort === undefined) continue;

    const key = `${port.hostPort}/${port.protocol}`;
    if (seen.has(key)) throw new UserError(`host port ${key} is published twice`, { port: key });
    seen.add(key);
  }
}

function fromCommander(err: CommanderError): UserError {
  if (err.code === 'commander.unknownOption') {
    const given = /'([^']*)'/.exec(err.message)?.[1] ?? '';
    const flag = given.startsWith('--') ? given.replace(/=.*$/s, '') : given.slice(0, 2);
    const reason = REFUSED_FLAGS[flag];
    if (reason) return new UserError(`run option ${flag} is refused: ${reason}`, { flag });
    return new UserError(`unknown run option ${flag}; supported: ${SUPPORTED}`, { flag });
  }

  if (err.code === 'commander.optionMissingArgument') {
    const flags = /option '([^<']*?)\s*</.exec(err.message)?.[1] ?? 'option';
    const named = flags.replace(', ', '/');
    return new UserError(`run option ${named} needs a value\n${COMMAND_USAGE.run}`);
  }

  return new UserError(`run: ${err.message.replace(/^error: /, '')}\n${COMMAND_USAGE.run}`);
}
