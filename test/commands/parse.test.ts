import { describe, expect, it } from 'vitest';

import { parseCommandLine, type ParsedLine } from '../../src/commands/parse.js';
import type { Command } from '../../src/core/types.js';
import { refusal } from './refusal.js';

const parse = (line: string) => parseCommandLine(line, { maxReplicas: 20 });
const command = (line: string) => {
  const parsed = parse(line);
  if (parsed.kind !== 'command') throw new Error(`expected a command from ${line}`);
  return parsed.command;
};

describe('parseCommandLine', () => {
  it.each<[string, Command]>([
    ['build copy script1', { kind: 'build', build: { variant: 'copy', file: 'script1' } }],
    [
      'build install python3-minimal',
      { kind: 'build', build: { variant: 'install', pkg: 'python3-minimal' } },
    ],
    [
      'build both python3-minimal script1',
      { kind: 'build', build: { variant: 'both', pkg: 'python3-minimal', file: 'script1' } },
    ],
    ['build netcat 80', { kind: 'build', build: { variant: 'netcat', port: 80 } }],
    ['scale up 3 worker1', { kind: 'scale', direction: 'up', count: 3, name: 'worker1' }],
    ['scale down 2 worker1', { kind: 'scale', direction: 'down', count: 2, name: 'worker1' }],
    ['stop worker1', { kind: 'stop', name: 'worker1' }],
    ['start worker1', { kind: 'start', name: 'worker1' }],
    ['list', { kind: 'list' }],
    ['recovery', { kind: 'recovery' }],
    ['quit', { kind: 'quit' }],
    ['  LIST  ', { kind: 'list' }],
    ['Scale UP 1 web', { kind: 'scale', direction: 'up', count: 1, name: 'web' }],
  ])("reads the earlier tool's %j", (line, expected) => {
    expect(command(line)).toEqual(expected);
  });

  it('reads run through the docker-run parser', () => {
    expect(command('run -itd -p 80 image_1 nc -l -p 80')).toMatchObject({
      kind: 'run',
      spec: { image: 'image_1', cmd: ['nc', '-l', '-p', '80'], ports: [{ containerPort: 80 }] },
    });
  });

  it('keeps a quoted container command as one argument', () => {
    expect(command('run -itd image_1 sh -c "echo hi; sleep 1000"')).toMatchObject({
      spec: { cmd: ['sh', '-c', 'echo hi; sleep 1000'] },
    });
  });

  it.each<[string, ParsedLine]>([
    ['help', { kind: 'help' }],
    ['HELP', { kind: 'help' }],
    ['help run', { kind: 'help', topic: 'run' }],
    ['help Scale', { kind: 'help', topic: 'scale' }],
  ])('answers %j with help', (line, expected) => {
    expect(parse(line)).toEqual(expected);
  });

  it.each([
    ['frobnicate', 'unknown command "frobnicate"'],
    ['docker ps', 'unknown command "docker"'],
    ['', 'type a command'],
    ['help frobnicate', 'no command "frobnicate"'],
  ])('answers %j with the command list', (line, message) => {
    const err = refusal(() => parse(line));
    expect(err.message).toContain(message);
    expect(err.message).toContain('scale up N NAME');
  });

  it.each([
    ['build', 'build needs a kind', 'build copy FILE'],
    ['build paint x', 'unknown build kind "paint"', 'build netcat PORT'],
    ['build copy', 'build copy takes 1 argument, got none', 'build copy FILE'],
    ['build copy a b', 'takes 1 argument, got "a" "b"', 'build copy FILE'],
    ['build both curl', 'build both takes 2 arguments', 'build both PKG FILE'],
    ['build netcat', 'build netcat takes 1 argument', 'build netcat PORT'],
    ['scale up 3', 'scale takes 3 arguments', 'scale up N NAME'],
    ['scale 3 worker1', 'scale takes 3 arguments', 'scale up N NAME'],
    ['scale sideways 3 worker1', 'up or down, not "sideways"', 'scale down N NAME'],
    ['stop', 'stop takes 1 argument, got none', 'stop NAME'],
    ['stop a b', 'stop takes 1 argument', 'stop NAME'],
    ['start', 'start takes 1 argument', 'start NAME'],
    ['list all', 'list takes 0 arguments', 'list'],
    ['recovery now', 'recovery takes 0 arguments', 'recovery'],
    ['quit now', 'quit takes 0 arguments', 'quit'],
    ['run', 'needs an IMAGE', 'run [OPTIONS] IMAGE'],
  ])('refuses the wrong shape %j with the usage', (line, message, usage) => {
    const err = refusal(() => parse(line));
    expect(err.message).toContain(message);
    expect(err.message).toContain(usage);
  });

  it.each([
    ['build install "curl; touch /tmp/pwned"', 'curl; touch /tmp/pwned'],
    ['build install "curl && id"', 'curl && id'],
    ["build install '$(id)'", '$(id)'],
    ['build install -oAPT::Get::AllowUnauthenticated=true', '-oAPT::Get::Allow'],
    ['build both "curl|sh" hello.txt', 'curl|sh'],
    ['build both curl ../etc/passwd', '../etc/passwd'],
    ['build copy ../etc/passwd', '../etc/passwd'],
    ['build copy /etc/passwd', '/etc/passwd'],
    ['build copy ..', '..'],
    ['build netcat 99999', '99999'],
    ['build netcat 0', 'port 0'],
    ['build netcat http', 'http'],
    ['scale up 0 worker1', '"0"'],
    ['scale up -1 worker1', '"-1"'],
    ['scale up 3.5 worker1', '"3.5"'],
    ['scale up 1e3 worker1', '"1e3"'],
    ['scale up 21 worker1', '"21"'],
    ['scale down 0 worker1', '"0"'],
    ['scale up 2 worker1-r1', 'worker1-r1'],
    ['stop "$(id)"', '$(id)'],
    ['start ../x', '../x'],
  ])('refuses %j, naming %j', (line, named) => {
    expect(refusal(() => parse(line)).message).toContain(named);
  });

  it.each([
    ['build install curl; touch /tmp/pwned', ';'],
    ['build install curl && id', '&&'],
    ['build install $(id)', '$('],
    ['build install curl | sh', '|'],
    ['list > /tmp/x', '>'],
    ['build install `id`', 'backtick'],
    ['build install "curl\nRUN echo pwned"', 'one line'],
  ])('refuses the unquoted shell syntax in %j before reading any command', (line, named) => {
    expect(refusal(() => parse(line)).message).toContain(named);
  });

  it('names the cap it refuses a count against', () => {
    const err = refusal(() => parseCommandLine('scale up 6 web', { maxReplicas: 5 }));
    expect(err.message).toContain('1 to 5');
    expect(parseCommandLine('scale up 5 web', { maxReplicas: 5 })).toMatchObject({
      command: { count: 5 },
    });
  });
});

describe('stop and start of one replica', () => {
  it.each([
    ['stop worker1-r2', { kind: 'stop', name: 'worker1-r2' }],
    ['start worker1-r1', { kind: 'start', name: 'worker1-r1' }],
    ['stop web', { kind: 'stop', name: 'web' }],
  ])('reads %s', (line, command) => {
    expect(parseCommandLine(line, { maxReplicas: 20 })).toEqual({ kind: 'command', command });
  });

  it('still refuses a bad service part', () => {
    expect(() => parseCommandLine('stop -x-r2', { maxReplicas: 20 })).toThrow(/-x/);
  });
});
