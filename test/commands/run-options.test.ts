import { describe, expect, it } from 'vitest';

import { runSpecFromOptions } from '../../src/commands/run-options.js';
import type { RunSpec } from '../../src/core/types.js';
import { refusal } from './refusal.js';

describe('run from structured options', () => {
  it('builds the same spec as the typed line would', () => {
    expect(
      runSpecFromOptions({
        image: 'image_1',
        command: 'nc -l -p 80',
        publish: '80',
        interactive: true,
        tty: true,
      }),
    ).toEqual<RunSpec>({
      image: 'image_1',
      cmd: ['nc', '-l', '-p', '80'],
      env: [],
      labels: {},
      ports: [{ containerPort: 80, protocol: 'tcp' }],
      interactive: true,
      tty: true,
      detach: true,
    });
  });

  it('reads several ports, quoted env values, a name and a quoted command', () => {
    const spec = runSpecFromOptions({
      image: 'nginx:alpine',
      publish: '8080:80, 127.0.0.1:53:53/udp',
      env: 'A=1 GREETING="hello world"',
      name: 'web',
      command: 'sh -c "echo hi; sleep 1000"',
      detach: false,
    });
    expect(spec).toMatchObject({
      name: 'web',
      env: ['A=1', 'GREETING=hello world'],
      cmd: ['sh', '-c', 'echo hi; sleep 1000'],
      detach: false,
      ports: [
        { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
        { hostIp: '127.0.0.1', hostPort: 53, containerPort: 53, protocol: 'udp' },
      ],
    });
  });

  it.each([
    [{ image: '--privileged' }, 'image reference'],
    [{ image: '$(id)' }, 'image reference'],
    [{ image: '' }, 'image reference'],
    [{ image: 'x', publish: '8080:99999' }, '99999'],
    [{ image: 'x', publish: 'abc' }, 'abc'],
    [{ image: 'x', publish: '-v /:/host' }, 'needs a value'],
    [{ image: 'x', env: 'TOKEN' }, 'KEY=VALUE'],
    [{ image: 'x', name: 'worker1-r3' }, 'keeps for replicas'],
    [{ image: 'x', name: '--privileged' }, '--name needs a value'],
    [{ image: 'x', command: 'id; rm -rf /' }, 'operator ;'],
  ])('refuses %j like the typed line', (options, message) => {
    expect(refusal(() => runSpecFromOptions(options)).message).toContain(message);
  });
});
