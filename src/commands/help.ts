import { UserError } from '../core/errors.js';
import { show } from './show.js';

/** One usage line per command word, for error messages and for front ends that list commands. */
export const COMMAND_USAGE: Readonly<Record<string, string>> = {
  build: 'build copy FILE | build install PKG | build both PKG FILE | build netcat PORT',
  run: 'run [OPTIONS] IMAGE [COMMAND [ARG...]]',
  scale: 'scale up N NAME | scale down N NAME',
  stop: 'stop NAME',
  start: 'start NAME',
  list: 'list',
  recovery: 'recovery',
  quit: 'quit',
  help: 'help [COMMAND]',
};

const ABOUT: Record<string, { what: string; more?: string[]; examples: string[] }> = {
  build: {
    what: 'build an image from the base image, named image_1, image_2, ...',
    more: [
      'copy FILE        copy myimages/FILE into the image',
      'install PKG      apt-install the Debian package PKG',
      'both PKG FILE    both of the above',
      'netcat PORT      install netcat and expose PORT',
    ],
    examples: ['build copy script1', 'build install python3-minimal', 'build netcat 80'],
  },
  run: {
    what: 'start a service from IMAGE; everything after IMAGE is the container command',
    more: [
      'options: -i -t -d (combinable, e.g. -itd), -p/--publish [IP:][HOST:]PORT[/udp],',
      '  -e/--env KEY=VALUE, --name NAME, -w/--workdir DIR, -u/--user USER[:GROUP],',
      '  --entrypoint CMD, -l/--label KEY=VALUE, -m/--memory 512m, --cpus 1.5, -h/--hostname NAME',
      'refused: flags that reach the host (--privileged, -v, --mount, --network, --pid, ...)',
    ],
    examples: ['run -itd -p 80 image_1 nc -l -p 80', 'run -d -p 8080:80 --name web nginx:alpine'],
  },
  scale: {
    what: 'add or remove N replicas of the service NAME (N is an increment)',
    examples: ['scale up 3 worker1', 'scale down 2 worker1'],
  },
  stop: {
    what: 'stop a service and all its replicas; recovery leaves it alone',
    examples: ['stop worker1'],
  },
  start: {
    what: 'start a stopped service again; recovery protects it again',
    examples: ['start worker1'],
  },
  list: { what: 'show every service Deckhand manages', examples: ['list'] },
  recovery: {
    what: 'bring back now every container that crashed but should run',
    examples: ['recovery'],
  },
  quit: {
    what: 'remove every container, the proxy and the network Deckhand made',
    examples: ['quit'],
  },
  help: { what: 'show this list, or the details of one command', examples: ['help run'] },
};

/** The command list with one line each, or one command's usage, details and examples. */
export function helpText(topic?: string): string {
  if (topic === undefined) {
    const lines = Object.entries(ABOUT).flatMap(([word, about]) => [
      `  ${COMMAND_USAGE[word] ?? word}`,
      `      ${about.what}`,
    ]);
    return ['Commands:', ...lines, '', 'Type help COMMAND for details and examples.'].join('\n');
  }

  const about = ABOUT[topic];
  if (!about) {
    throw new UserError(`there is no command ${show(topic)}\n\n${helpText()}`, { value: topic });
  }
  return [
    `usage: ${COMMAND_USAGE[topic]}`,
    about.what,
    ...(about.more ?? []).map((line) => `  ${line}`),
    'examples:',
    ...about.examples.map((example) => `  ${example}`),
  ].join('\n');
}
