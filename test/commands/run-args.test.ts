import { describe, expect, it } from 'vitest';

import { REFUSED_FLAGS } from '../../src/commands/refused-flags.js';
import { parseRunArgs } from '../../src/commands/run-args.js';
import { tokenize } from '../../src/commands/tokenize.js';
import type { RunSpec } from '../../src/core/types.js';
import { refusal } from './refusal.js';

const run = (args: string) => parseRunArgs(tokenize(args));

describe('run: options, then IMAGE, then the container command', () => {
  it('gives the trailing -p 80 to nc and publishes exactly one port', () => {
    expect(run('-itd -p 80 image_1 nc -l -p 80')).toEqual<RunSpec>({
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

  it.each([
    ['-itd -p 80 nginx:alpine'],
    ['-dti -p 80 nginx:alpine'],
    ['-tdi -p80 nginx:alpine'],
    ['-i -t -d --publish=80 nginx:alpine'],
    ['--interactive --tty --detach --publish 80 nginx:alpine'],
    ['-itdp 80 nginx:alpine'],
    ['-itd -p 80/tcp nginx:alpine'],
  ])('reads %j as -i -t -d, one port 80/tcp and the image default command', (args) => {
    const spec = run(args);
    expect(spec).toMatchObject({ image: 'nginx:alpine', interactive: true, tty: true });
    expect(spec.detach).toBe(true);
    expect(spec.ports).toEqual([{ containerPort: 80, protocol: 'tcp' }]);
    expect(spec.cmd).toBeUndefined();
  });

  it.each([
    ['-d -p 80 x', { containerPort: 80, protocol: 'tcp' }],
    ['-d -p 8080:80 x', { hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
    [
      '-d -p 127.0.0.1:8080:80 x',
      { hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
    ],
    ['-d -p 80/udp x', { containerPort: 80, protocol: 'udp' }],
    [
      '-d -p 127.0.0.1:8080:80/udp x',
      { hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'udp' },
    ],
    ['-d -p 127.0.0.1::80 x', { hostIp: '127.0.0.1', containerPort: 80, protocol: 'tcp' }],
    [
      '-d -p [::1]:8080:80 x',
      { hostIp: '::1', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
    ],
    ['-d -p ::1:8080:80 x', { hostIp: '::1', hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
    ['-d -p80 x', { containerPort: 80, protocol: 'tcp' }],
    ['-d --publish=8080:80 x', { hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
  ])('reads the publish form in %j', (args, port) => {
    expect(run(args).ports).toEqual([port]);
  });

  it('lets one host port serve tcp and udp', () => {
    expect(run('-d -p 53:53 -p 53:53/udp x').ports).toHaveLength(2);
  });

  it('keeps every repeated -p, in order', () => {
    expect(run('-d -p 80 -p 8443:443 --publish=53/udp x').ports).toEqual([
      { containerPort: 80, protocol: 'tcp' },
      { hostPort: 8443, containerPort: 443, protocol: 'tcp' },
      { containerPort: 53, protocol: 'udp' },
    ]);
  });

  it.each([
    ['-itd image_1 sh -c "echo hi; sleep 1000"', ['sh', '-c', 'echo hi; sleep 1000']],
    ["-d x sh -c 'echo $HOME && id | cat'", ['sh', '-c', 'echo $HOME && id | cat']],
    ['-d x --privileged -v /:/host', ['--privileged', '-v', '/:/host']],
    ['-d x -- a -b', ['--', 'a', '-b']],
    ['-d -- x -d', ['-d']],
    ['x -itd -p 80', ['-itd', '-p', '80']],
  ])('passes the container command of %j on untouched', (args, cmd) => {
    expect(run(args).cmd).toEqual(cmd);
  });

  it('reads every supported option', () => {
    const spec = run(
      '-d --name web -e A=1 --env=B=two=2 -e C= -w /srv -u 1000:1000 --entrypoint /bin/sh ' +
        '-l team=core -l flag -m 512m --cpus 1.5 -h web-1 nginx:alpine -c "echo ok"',
    );
    expect(spec).toEqual<RunSpec>({
      image: 'nginx:alpine',
      cmd: ['-c', 'echo ok'],
      entrypoint: ['/bin/sh'],
      name: 'web',
      env: ['A=1', 'B=two=2', 'C='],
      labels: { team: 'core', flag: '' },
      ports: [],
      interactive: false,
      tty: false,
      detach: true,
      workdir: '/srv',
      user: '1000:1000',
      hostname: 'web-1',
      memoryBytes: 512 * 1024 ** 2,
      nanoCpus: 1_500_000_000,
    });
  });

  it('clears the entrypoint for --entrypoint ""', () => {
    expect(run('-d --entrypoint "" x').entrypoint).toEqual([]);
  });

  it('leaves -i -t -d off when not given', () => {
    expect(run('x')).toMatchObject({ interactive: false, tty: false, detach: false, ports: [] });
  });
});

describe('run refuses, naming what is wrong', () => {
  it.each([
    ['-d -p 8080:99999 x', '99999'],
    ['-d -p 99999 x', '99999'],
    ['-d -p 0 x', 'port 0'],
    ['-d -p abc x', 'abc'],
    ['-d -p 8080:abc x', 'abc'],
    ['-d -p 1.2.3:8080:80 x', '1.2.3'],
    ['-d -p localhost:8080:80 x', 'localhost'],
    ['-d -p 80/sctp x', 'tcp or udp'],
    ['-d -p 80/tcp/udp x', 'tcp or udp'],
    ['-d -p 8000-8010:80 x', 'ranges'],
    ['-d -p "" x', 'port ""'],
    ['-d -p 8080:80 -p 8080:81 x', 'host port 8080/tcp is published twice'],
    ['-d -p 127.0.0.1:53:53/udp -p 53:54/udp x', 'host port 53/udp is published twice'],
  ])('the bad port in %j (%s)', (args, named) => {
    expect(refusal(() => run(args)).message).toContain(named);
  });

  it.each([
    ['-x image_1', 'unknown run option -x'],
    ['-itdx image_1', 'unknown run option -x'],
    ['--foo image_1', 'unknown run option --foo'],
    ['--foo=bar image_1', 'unknown run option --foo'],
    ['--interactive=yes x', 'unknown run option --interactive'],
    ['--init x', 'unknown run option --init'],
  ])('the unknown flag in %j', (args, message) => {
    expect(refusal(() => run(args)).message).toContain(message);
  });

  it.each([
    ['', 'needs an IMAGE'],
    ['-p 80', 'needs an IMAGE'],
    ['-itd', 'needs an IMAGE'],
    ['-itd -p', '-p/--publish needs a value'],
    ['-d --name', '--name needs a value'],
    ['-d -e', '-e/--env needs a value'],
    ['-p -d x', '-p needs a value, but got the flag "-d"'],
    ['-itd -p --privileged x', '-p needs a value'],
    ['--name=-x x', '--name needs a value'],
  ])('the missing piece in %j', (args, message) => {
    expect(refusal(() => run(args)).message).toContain(message);
  });

  it.each([
    ['--privileged x', '--privileged', 'host'],
    ['-v /:/host x', '-v', 'host'],
    ['--volume=/:/host x', '--volume', 'host'],
    ['--mount type=bind,src=/,dst=/h x', '--mount', 'host'],
    ['--pid=host x', '--pid', 'host'],
    ['--pid host x', '--pid', 'host'],
    ['--ipc=host x', '--ipc', 'host'],
    ['--uts=host x', '--uts', 'host'],
    ['--userns=host x', '--userns', 'host'],
    ['--cgroupns=host x', '--cgroupns', 'host'],
    ['--cap-add=SYS_ADMIN x', '--cap-add', 'host'],
    ['--device /dev/sda x', '--device', 'host'],
    ['--security-opt seccomp=unconfined x', '--security-opt', 'host'],
    ['--volumes-from other x', '--volumes-from', 'host'],
    ['--group-add 0 x', '--group-add', 'host'],
    ['--sysctl net.ipv4.ip_forward=1 x', '--sysctl', 'host'],
    ['--runtime runc x', '--runtime', 'host'],
    ['--tmpfs /run x', '--tmpfs', 'host'],
    ['--gpus all x', '--gpus', 'host'],
    ['--oom-kill-disable x', '--oom-kill-disable', 'host'],
    ['--ulimit nofile=1 x', '--ulimit', 'host'],
    ['--env-file /etc/shadow x', '--env-file', 'file on the host'],
    ['--network host x', '--network', 'network'],
    ['--net=host x', '--net', 'network'],
    ['--add-host a:1.2.3.4 x', '--add-host', 'network'],
    ['-P x', '-P', 'network'],
    ['--rm x', '--rm', 'lifecycle'],
    ['--restart=always x', '--restart', 'lifecycle'],
    ['-dv /:/host x', '-v', 'host'],
  ])('the dangerous flag in %j', (args, flag, why) => {
    const message = refusal(() => run(args)).message;
    expect(message).toContain(`run option ${flag} is refused`);
    expect(message).toContain(why);
  });

  it.each(Object.keys(REFUSED_FLAGS))('every listed flag, here %s', (flag) => {
    expect(refusal(() => parseRunArgs([flag, 'x'])).message).toContain(`${flag} is refused`);
  });

  it.each([
    ['-d "$(id)"', 'image reference'],
    ['-d -- -x', 'image reference'],
    ['-d Nginx', 'lowercase'],
    ['-d "nginx alpine"', 'image reference'],
    ['-d nginx:', 'image reference'],
    ['-d nginx@sha256:abc', 'image reference'],
    ['-d "image_1;id"', 'image reference'],
  ])('the image in %j', (args, message) => {
    expect(refusal(() => run(args)).message).toContain(message);
  });

  it.each([
    ['-e A x', 'KEY=VALUE'],
    ['-e =1 x', 'not a variable name'],
    ['-e "1A=b" x', 'not a variable name'],
    ['-e "A B=c" x', 'not a variable name'],
    ['-l deckhand.instance=x x', 'belong to Deckhand'],
    ['-l Deckhand.Service=x x', 'belong to Deckhand'],
    ['-l "a b=c" x', 'not a label key'],
    ['--name w x', 'not a valid service name'],
    ['--name worker1-r2 x', 'keeps for replicas'],
    ['--name "$(id)" x', 'not a valid service name'],
    ['-w srv x', 'absolute path'],
    ['-u "root;id" x', 'user name or id'],
    ['-h "bad_host" x', 'not a valid host name'],
    ['-m lots x', 'not a size'],
    ['-m 1q x', 'not a size'],
    ['-m 1k x', 'minimum'],
    ['--cpus 0 x', '--cpus "0"'],
    ['--cpus -1 x', '--cpus needs a value'],
    ['--cpus 1e3 x', '--cpus "1e3"'],
    ['--cpus 2000 x', '--cpus "2000"'],
  ])('the bad option value in %j', (args, message) => {
    expect(refusal(() => run(args)).message).toContain(message);
  });

  it('an argument carrying a NUL', () => {
    expect(refusal(() => parseRunArgs(['-d', 'x', 'a\0b'])).message).toContain('NUL');
  });
});
