import { describe, expect, it } from 'vitest';
import {
  judgeReload,
  render,
  type ProxyService,
  type ReloadVerdict,
} from '../../src/engine/docker/proxy.js';

const tcp = (hostPort: number, containerPort = 80, hostIp = '0.0.0.0') =>
  ({ hostIp, hostPort, containerPort, protocol: 'tcp' }) as const;
const udp = (hostPort: number, containerPort = 53, hostIp = '0.0.0.0') =>
  ({ hostIp, hostPort, containerPort, protocol: 'udp' }) as const;

describe('proxy config rendering', () => {
  it.each<[string, ProxyService[], string[]]>([
    [
      'one upstream server per running replica',
      [{ name: 'web', ports: [tcp(20001)], backends: ['172.20.0.3', '172.20.0.2'] }],
      [
        'upstream web_tcp_20001 {\n    server 172.20.0.2:80;\n    server 172.20.0.3:80;\n}',
        'listen 0.0.0.0:20001;',
        'proxy_pass web_tcp_20001;',
      ],
    ],
    [
      'a placeholder that is marked down when no replica runs',
      [{ name: 'idle', ports: [tcp(20002, 8080)], backends: [] }],
      ['upstream idle_tcp_20002 {', 'server 127.0.0.1:1 down;', 'listen 0.0.0.0:20002;'],
    ],
    [
      'a udp listener for a /udp port',
      [{ name: 'dns', ports: [udp(20053)], backends: ['172.20.0.9'] }],
      ['upstream dns_udp_20053 {\n    server 172.20.0.9:53;\n}', 'listen 0.0.0.0:20053 udp;'],
    ],
    [
      'the requested host address, bracketed when it is IPv6',
      [
        { name: 'local', ports: [tcp(20003, 80, '127.0.0.1')], backends: ['fd00::5'] },
        { name: 'six', ports: [tcp(20004, 80, '::1')], backends: ['172.20.0.4'] },
      ],
      ['listen 127.0.0.1:20003;', 'server [fd00::5]:80;', 'listen [::1]:20004;'],
    ],
    [
      'one upstream per published port of a service',
      [{ name: 'multi', ports: [tcp(20011, 443), tcp(20010, 80)], backends: ['172.20.0.2'] }],
      [
        'upstream multi_tcp_20010 {\n    server 172.20.0.2:80;',
        'upstream multi_tcp_20011 {\n    server 172.20.0.2:443;',
      ],
    ],
  ])('writes %s', (_, services, fragments) => {
    const text = render(services);
    for (const fragment of fragments) expect(text).toContain(fragment);
  });

  it('gives the same text whatever order services, ports and backends come in', () => {
    const a: ProxyService[] = [
      { name: 'b', ports: [tcp(20002), udp(20002)], backends: ['172.20.0.10', '172.20.0.9'] },
      { name: 'a', ports: [tcp(20001)], backends: ['172.20.0.2'] },
    ];
    const b: ProxyService[] = [
      { name: 'a', ports: [tcp(20001)], backends: ['172.20.0.2', '172.20.0.2'] },
      { name: 'b', ports: [udp(20002), tcp(20002)], backends: ['172.20.0.9', '172.20.0.10'] },
    ];
    expect(render(a)).toBe(render(b));
    expect(render(a).indexOf('172.20.0.9:')).toBeLessThan(render(a).indexOf('172.20.0.10:'));
  });

  it('writes no listener at all for no services', () => {
    expect(render([])).not.toMatch(/listen|upstream/);
  });

  it.each<[string, ProxyService[], RegExp]>([
    [
      'a service name that could break out of the config',
      [{ name: 'x; }', ports: [tcp(20001)], backends: [] }],
      /service name/,
    ],
    [
      'a backend that is not an IP',
      [{ name: 'web', ports: [tcp(20001)], backends: ['worker1'] }],
      /not an IP/,
    ],
    [
      'a host address that is not an IP',
      [{ name: 'web', ports: [tcp(20001, 80, 'example.com')], backends: [] }],
      /host IP/,
    ],
    ['a port outside 1-65535', [{ name: 'web', ports: [tcp(70000)], backends: [] }], /not a port/],
    [
      'two services on one host port',
      [
        { name: 'a', ports: [tcp(20001)], backends: [] },
        { name: 'b', ports: [tcp(20001, 80, '127.0.0.1')], backends: [] },
      ],
      /claimed by both a and b/,
    ],
  ])('refuses %s', (_, services, message) => {
    expect(() => render(services)).toThrow(message);
  });

  it('lets tcp and udp share a host port number', () => {
    const text = render([
      { name: 'dns', ports: [tcp(20053, 53), udp(20053)], backends: ['172.20.0.2'] },
    ]);
    expect(text).toContain('listen 0.0.0.0:20053;');
    expect(text).toContain('listen 0.0.0.0:20053 udp;');
  });
});

// Lines as nginx 1.22 writes them to the proxy's stderr, one reload after SIGHUP.
const line = (pid: number, text: string, level = 'notice') =>
  `2026/12/03 17:51:41 [${level}] ${pid}#${pid}: ${text}`;
const signalled = [
  line(7, 'signal 1 (SIGHUP) received from 1, reconfiguring'),
  line(7, 'reconfiguring'),
  line(7, 'using the "epoll" event method'),
];
const spawned = [
  line(7, 'start worker processes'),
  line(7, 'start worker process 10'),
  line(7, 'start worker process 11'),
];
const retired = (...pids: number[]) =>
  pids.flatMap((pid) => [line(pid, 'gracefully shutting down'), line(pid, 'exiting')]);
const bindRetry = line(7, 'bind() to 0.0.0.0:20005 failed (98: Address already in use)', 'emerg');

describe('judging a reload from the nginx log', () => {
  it.each<[string, string[], ReloadVerdict['state'], RegExp?]>([
    ['nothing yet', [], 'pending', /did not take the reload signal/],
    ['the signal taken, no workers yet', signalled, 'pending', /did not start workers/],
    [
      'new workers started, old ones still accepting',
      [...signalled, ...spawned],
      'pending',
      /old nginx workers did not stop accepting/,
    ],
    [
      'one of two old workers retired',
      [...signalled, ...spawned, ...retired(8)],
      'pending',
      /old nginx workers/,
    ],
    [
      'new workers started and every old one retired',
      [...signalled, ...spawned, ...retired(8, 9)],
      'live',
    ],
    [
      'a config error from the master',
      [...signalled, line(7, 'unknown directive "this" in /etc/nginx/deckhand/x.conf:1', 'emerg')],
      'refused',
      /nginx: unknown directive "this"/,
    ],
    ['a busy port nginx is still retrying', [...signalled, bindRetry, bindRetry], 'pending'],
    [
      'a busy port nginx gave up on, reported by the port',
      [...signalled, bindRetry, bindRetry, line(7, 'still could not bind()', 'emerg')],
      'refused',
      /^nginx: bind\(\) to 0\.0\.0\.0:20005 failed \(98: Address already in use\)$/,
    ],
    [
      'a busy port freed while nginx retried',
      [...signalled, bindRetry, ...spawned, ...retired(8, 9)],
      'live',
    ],
    [
      'lines from before the signal, which belong to an earlier reload',
      [...retired(4, 5), line(7, 'still could not bind()', 'emerg'), ...signalled, ...spawned],
      'pending',
    ],
    [
      'a new worker that a later signal retired, which is not an old one',
      [...signalled, ...spawned, ...retired(10, 11)],
      'pending',
    ],
  ])('with %s', (_, lines, state, detail) => {
    const verdict = judgeReload(lines);
    expect(verdict.state).toBe(state);
    if (detail) {
      const text =
        verdict.state === 'refused'
          ? verdict.error
          : verdict.state === 'pending'
            ? verdict.detail
            : '';
      expect(text).toMatch(detail);
    }
  });
});
