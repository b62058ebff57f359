import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import { slashCommands } from '../../src/discord/commands/index.js';
import type { OptionReader, Plan } from '../../src/discord/commands/slash-command.js';

type Values = Record<string, string | number | boolean>;

/** Reads options the way discord.js's resolver does: absent options are null. */
function reader(values: Values, sub?: string): OptionReader {
  const get = <T>(name: string) => (name in values ? (values[name] as T) : null);
  return {
    subcommand: () => sub ?? null,
    string: get<string>,
    integer: get<number>,
    boolean: get<boolean>,
  };
}

function plan(name: string, values: Values = {}, sub?: string): Plan {
  return slashCommands.get(name)!.plan(reader(values, sub), { maxReplicas: 20 });
}

const queued = (p: Plan) =>
  p.kind === 'queue' ? p : expect.fail(`expected a queued plan, got ${p.kind}`);

describe('slash commands become the console line they stand for', () => {
  it.each([
    ['build', 'copy', { file: 'script1' }, 'build copy script1'],
    ['build', 'install', { package: 'python3-minimal' }, 'build install python3-minimal'],
    ['build', 'both', { package: 'curl', file: 'script1' }, 'build both curl script1'],
    ['build', 'netcat', { port: 80 }, 'build netcat 80'],
    ['scale', undefined, { direction: 'up', count: 3, service: 'worker1' }, 'scale up 3 worker1'],
    [
      'scale',
      undefined,
      { direction: 'down', count: 2, service: 'worker1' },
      'scale down 2 worker1',
    ],
    ['stop', undefined, { service: 'worker1' }, 'stop worker1'],
    ['start', undefined, { service: 'worker1' }, 'start worker1'],
    ['list', undefined, {}, 'list'],
    ['recovery', undefined, {}, 'recovery'],
    ['quit', undefined, {}, 'quit'],
    [
      'run',
      undefined,
      { args: '-itd -p 80 image_1 nc -l -p 80' },
      'run -itd -p 80 image_1 nc -l -p 80',
    ],
  ])('/%s %s %o -> %s', (name, sub, values, line) => {
    expect(queued(plan(name, values, sub)).text).toBe(line);
  });

  it('keeps the container command of /run args untouched, its -p belonging to nc', () => {
    const p = queued(plan('run', { args: '-itd -p 80 image_1 nc -l -p 80' }));
    expect(p.command).toMatchObject({
      kind: 'run',
      spec: {
        image: 'image_1',
        cmd: ['nc', '-l', '-p', '80'],
        interactive: true,
        tty: true,
        detach: true,
      },
    });
    expect(p.command.kind === 'run' && p.command.spec.ports).toEqual([
      expect.objectContaining({ containerPort: 80 }),
    ]);
  });

  it('builds /run from structured options, quoted values staying one argument', () => {
    const p = queued(
      plan('run', {
        image: 'image_1',
        command: 'sh -c "echo hi there"',
        publish: '80 8080:81',
        name: 'web',
        env: 'A=1 "B=two words"',
        tty: true,
      }),
    );
    expect(p.command).toMatchObject({
      kind: 'run',
      spec: {
        image: 'image_1',
        name: 'web',
        cmd: ['sh', '-c', 'echo hi there'],
        env: ['A=1', 'B=two words'],
        tty: true,
        detach: true,
      },
    });
    expect(p.command.kind === 'run' && p.command.spec.ports.map((x) => x.containerPort)).toEqual([
      80, 81,
    ]);
  });

  it('lets structured flags stand in front of args', () => {
    const p = queued(plan('run', { args: 'image_1 sleep 60', publish: '9000' }));
    expect(p.command).toMatchObject({
      kind: 'run',
      spec: { image: 'image_1', cmd: ['sleep', '60'] },
    });
    expect(p.text).toBe('run -p 9000 image_1 sleep 60');
  });
});

describe('slash commands refuse what the console refuses', () => {
  it.each([
    ['a file outside myimages/', 'build', { file: '../etc/passwd' }, 'copy', /myimages/],
    [
      'a package with a shell command',
      'build',
      { package: 'curl; touch /tmp/x' },
      'install',
      /Debian package/,
    ],
    ['a package starting with -', 'build', { package: '-oAPT::x' }, 'install', /Debian package/],
    ['a port out of range', 'build', { port: 70000 }, 'netcat', /1 to 65535/],
    ['a count of zero', 'scale', { direction: 'up', count: 0, service: 'w1' }, undefined, /count/],
    [
      'a count over the cap',
      'scale',
      { direction: 'up', count: 21, service: 'w1' },
      undefined,
      /count/,
    ],
    [
      'a service name with a shell operator',
      'stop',
      { service: 'w1; rm -rf /' },
      undefined,
      /service name/,
    ],
    [
      'a flag that reaches the host',
      'run',
      { args: '--privileged image_1' },
      undefined,
      /--privileged/,
    ],
    ['a volume', 'run', { args: '-v /:/host image_1' }, undefined, /-v|volume/],
    ['an unknown flag', 'run', { args: '-x image_1' }, undefined, /-x/],
    ['run without an image', 'run', { args: '-itd -p 80' }, undefined, /image|-p|argument/i],
    [
      'a host network through structured options',
      'run',
      { image: 'image_1', command: 'sh', publish: '--network=host' },
      undefined,
      /network|publish|port/i,
    ],
    ['args and image together', 'run', { args: 'image_1', image: 'image_1' }, undefined, /either/],
    ['neither args nor image', 'run', {}, undefined, /image/],
    [
      'a shell operator in the command',
      'run',
      { image: 'image_1', command: 'nc -l -p 80 && rm -rf /' },
      undefined,
      /&&/,
    ],
  ])('refuses %s', (_what, name, values, sub, message) => {
    expect(() => plan(name, values, sub)).toThrow(UserError);
    expect(() => plan(name, values, sub)).toThrow(message);
  });
});

describe('definitions', () => {
  it('stay inside Discord limits for names and descriptions', () => {
    for (const c of slashCommands.values()) {
      expect(c.definition.name).toMatch(/^[a-z]{1,32}$/);
      expect(c.definition.description.length).toBeLessThanOrEqual(100);
      for (const o of c.definition.options ?? [])
        expect(o.description.length).toBeLessThanOrEqual(100);
    }
  });

  it('autocomplete only options registered as autocompleted', () => {
    for (const c of slashCommands.values()) {
      const flat = (c.definition.options ?? []).flatMap((o: any) => [o, ...(o.options ?? [])]);
      for (const name of Object.keys(c.autocomplete ?? {})) {
        expect(flat.some((o: any) => o.name === name && o.autocomplete === true)).toBe(true);
      }
    }
  });
});
