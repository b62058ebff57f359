import { describe, expect, it } from 'vitest';
import { render, type ProxyService } from '../../src/engine/docker/proxy.js';

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
