import { isIP } from 'node:net';

import { UserError } from '../core/errors.js';
import type { PortSpec } from '../core/types.js';
import { show } from './show.js';
import { parsePort } from './validate.js';

/**
 * Reads a `-p` value in any of docker-run's forms: `80`, `8080:80`, `127.0.0.1:8080:80`,
 * `127.0.0.1::80`, `[::1]:8080:80`, each optionally followed by `/tcp` or `/udp`.
 */
export function parsePublish(spec: string): PortSpec {
  const bad = (why: string) => new UserError(`-p ${show(spec)}: ${why}`, { value: spec });

  const [body = '', protocol = 'tcp', ...rest] = spec.split('/');
  if (rest.length > 0 || (protocol !== 'tcp' && protocol !== 'udp')) {
    throw bad('the protocol after / must be tcp or udp');
  }
  if (body.includes('-')) {
    throw bad('port ranges are not supported; publish each port with its own -p');
  }

  // Split from the right, as docker does, so that an IPv6 host address may contain colons.
  const last = body.lastIndexOf(':');
  const containerPart = body.slice(last + 1);
  const front = last < 0 ? undefined : body.slice(0, last);
  const middle = front?.lastIndexOf(':') ?? -1;
  const hostPart = front === undefined ? '' : front.slice(middle + 1);
  const ipPart = front === undefined || middle < 0 ? '' : front.slice(0, middle);

  const port = (s: string) => {
    try {
      return parsePort(s);
    } catch (err) {
      throw err instanceof UserError ? bad(err.message) : err;
    }
  };

  const hostIp = ipPart.replace(/^\[(.*)\]$/, '$1');
  if (hostIp !== '' && isIP(hostIp) === 0) {
    throw bad(`${show(ipPart)} is not an IPv4 or IPv6 address`);
  }

  return {
    ...(hostIp !== '' && { hostIp }),
    ...(hostPart !== '' && { hostPort: port(hostPart) }),
    containerPort: port(containerPart),
    protocol,
  };
}
