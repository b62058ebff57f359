import { describe, expect, it } from 'vitest';

import {
  parseCount,
  parsePort,
  validateFileName,
  validatePackageName,
  validateServiceName,
} from '../../src/commands/validate.js';
import { refusal } from './refusal.js';

describe('package names', () => {
  it.each(['curl', 'libstdc++6', 'python3.11', 'ca-certificates', 'python3-minimal', 'g++', '0ad'])(
    'accepts the Debian package name %j',
    (name) => {
      expect(validatePackageName(name)).toBe(name);
    },
  );

  it.each([
    'curl; touch /tmp/pwned',
    'curl && id',
    '$(id)',
    '`id`',
    'curl\nRUN echo pwned',
    'curl\\\nRUN echo pwned',
    '-oAPT::Get::AllowUnauthenticated=true',
    'curl|sh',
    'curl sh',
    'Curl',
    'curl=7.88',
    'curl:amd64',
    '../curl',
    'c',
    '',
    '+curl',
    'a'.repeat(129),
  ])('refuses %j before any build, naming it', (name) => {
    const message = refusal(() => validatePackageName(name)).message;
    const shown = JSON.stringify(name.length > 80 ? name.slice(0, 77) : name).slice(0, -1);
    expect(message).toContain(shown);
    expect(message).toContain('not a Debian package name');
  });

  it('shows an embedded newline as \\n rather than breaking the message', () => {
    expect(refusal(() => validatePackageName('curl\nRUN x')).message).toContain('"curl\\nRUN x"');
  });
});

describe('file names in myimages/', () => {
  it.each(['script1', 'hello.txt', 'my_file-2.tar.gz', 'A.B', '_x'])('accepts %j', (name) => {
    expect(validateFileName(name)).toBe(name);
  });

  it.each([
    ['../etc/passwd', 'without /'],
    ['a/b', 'without /'],
    ['/etc/passwd', 'without /'],
    ['..\\x', 'without /'],
    ['a\\b', 'without /'],
    ['..', '..'],
    ['a..b', '..'],
    ['.', 'hidden'],
    ['.env', 'hidden'],
    ['', 'empty'],
    ['-rf', 'start with -'],
    ['%2e%2e', 'letters, digits'],
    ['a b', 'letters, digits'],
    ['a\u0000b', 'letters, digits'],
    ['a\nb', 'letters, digits'],
    ['caf\u00e9', 'letters, digits'],
    ['x'.repeat(129), '128'],
    ['Dockerfile', 'generated Dockerfile'],
    ['dockerfile', 'generated Dockerfile'],
  ])('refuses %j (%s), naming it', (name, why) => {
    const message = refusal(() => validateFileName(name)).message;
    expect(message).toContain(why);
    expect(message).toContain('not a file name in myimages/');
    if (name.length <= 80) expect(message).toContain(JSON.stringify(name));
  });
});

describe('ports', () => {
  it.each([
    ['1', 1],
    ['80', 80],
    ['8080', 8080],
    ['65535', 65535],
    ['0080', 80],
  ])('reads %j as %i', (text, port) => {
    expect(parsePort(text)).toBe(port);
  });

  it.each(['0', '65536', '99999', '-1', 'abc', '80a', '8.5', '1e3', '', ' 80', '0x50', '12345678'])(
    'refuses %j, naming it',
    (text) => {
      const message = refusal(() => parsePort(text)).message;
      expect(message).toContain(text);
      expect(message).toContain('1 to 65535');
    },
  );
});

describe('counts', () => {
  it.each([
    ['1', 20, 1],
    ['3', 20, 3],
    ['20', 20, 20],
    ['07', 20, 7],
  ])('reads %j with a cap of %i as %i', (text, max, count) => {
    expect(parseCount(text, max)).toBe(count);
  });

  it.each([
    ['0', 20],
    ['-1', 20],
    ['3.5', 20],
    ['1e3', 20],
    ['21', 20],
    ['1000000', 20],
    ['three', 20],
    ['', 20],
    ['+3', 20],
    ['Infinity', 20],
    ['6', 5],
  ])('refuses %j with a cap of %i, naming the value and the cap', (text, max) => {
    const message = refusal(() => parseCount(text, max)).message;
    expect(message).toContain(JSON.stringify(text));
    expect(message).toContain(`1 to ${max}`);
  });
});

describe('service names', () => {
  it.each(['worker1', 'web', 'my-app.v2', 'A_b', 'web-r', 'web-rx1', 'r1', 'x'.repeat(63)])(
    'accepts %j',
    (name) => {
      expect(validateServiceName(name)).toBe(name);
    },
  );

  it.each([
    ['w', 'not a valid service name'],
    ['', 'not a valid service name'],
    ['-web', 'not a valid service name'],
    ['.web', 'not a valid service name'],
    ['web app', 'not a valid service name'],
    ['web/app', 'not a valid service name'],
    ['$(id)', 'not a valid service name'],
    ['x'.repeat(64), 'not a valid service name'],
    ['worker1-r2', 'keeps for replicas'],
    ['web-r10', 'keeps for replicas'],
  ])('refuses %j: %s', (name, why) => {
    expect(refusal(() => validateServiceName(name)).message).toContain(why);
  });

  it('points a replica name back at its service', () => {
    expect(refusal(() => validateServiceName('worker1-r2')).message).toContain('(worker1)');
  });
});
