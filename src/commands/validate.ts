import { UserError } from '../core/errors.js';
import { show } from './show.js';

// Debian policy: at least two characters, lowercase alphanumerics and + - . only, starting with an
// alphanumeric. Anything else (spaces, ;, |, $, a newline, a leading -) cannot be a package name.
const DEBIAN_PACKAGE = /^[a-z0-9][a-z0-9+.-]+$/;
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const SERVICE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const REPLICA_SUFFIX = /^(.+)-r\d+$/;

/** Accepts a Debian package name for apt-get; what a shell or apt would read as more is refused. */
export function validatePackageName(s: string): string {
  if (s.length > 128 || !DEBIAN_PACKAGE.test(s)) {
    throw new UserError(
      `${show(s)} is not a Debian package name: use lowercase letters, digits and + - . ` +
        '(at least two characters, starting with a letter or digit), e.g. curl or libstdc++6',
      { value: s },
    );
  }
  return s;
}

/** Accepts a plain file name that stays inside myimages/: no path, no traversal, no options. */
export function validateFileName(s: string): string {
  const bad = (why: string) =>
    new UserError(`${show(s)} is not a file name in myimages/: ${why}`, { value: s });

  if (s === '') throw bad('it is empty');
  if (/[/\\]/.test(s)) throw bad('give the bare file name, without / or \\');
  if (s.includes('..')) throw bad('.. is not allowed in a file name');
  if (s.startsWith('.')) throw bad('hidden files (starting with .) are not offered');
  if (s.startsWith('-')) throw bad('a file name cannot start with -');
  if (s.length > 128) throw bad('it is longer than 128 characters');
  if (!FILE_NAME.test(s)) throw bad('use letters, digits, . _ and - only');

  // The build context holds the generated Dockerfile next to the copied file.
  if (s.toLowerCase() === 'dockerfile') throw bad('that name is taken by the generated Dockerfile');
  return s;
}

/** Turns a port number given as text into a number from 1 to 65535. */
export function parsePort(s: string): number {
  if (!/^\d{1,10}$/.test(s)) {
    throw new UserError(
      `port ${show(s)} is not a number; a port is a whole number from 1 to 65535`,
      { value: s },
    );
  }

  const port = Number(s);
  if (port < 1 || port > 65535) {
    throw new UserError(`port ${s} is out of range; a port is a whole number from 1 to 65535`, {
      value: s,
    });
  }
  return port;
}

/** Turns a count given as text into a whole number from 1 to max. */
export function parseCount(s: string, max: number): number {
  const count = /^\d{1,10}$/.test(s) ? Number(s) : NaN;
  if (!(count >= 1 && count <= max)) {
    throw new UserError(`count ${show(s)} must be a whole number from 1 to ${max}`, {
      value: s,
      max,
    });
  }
  return count;
}

/** Accepts a service name in Docker's container-name grammar that cannot pass for a replica's. */
export function validateServiceName(s: string): string {
  if (s.length > 63 || !SERVICE_NAME.test(s)) {
    throw new UserError(
      `${show(s)} is not a valid service name: use 2 to 63 letters, digits, _ . and -, ` +
        'starting with a letter or digit',
      { value: s },
    );
  }

  // Replicas are named <service>-r<N>; a service with such a name would be confused with one.
  const replicaOf = REPLICA_SUFFIX.exec(s)?.[1];
  if (replicaOf) {
    throw new UserError(
      `${show(s)} ends in -r<number>, which Deckhand keeps for replicas; ` +
        `name the service itself (${replicaOf})`,
      { value: s },
    );
  }
  return s;
}

/** A service name, or one replica of it as `<service>-r<N>` (stop and start take either). */
export function validateTargetName(s: string): string {
  const service = REPLICA_SUFFIX.exec(s)?.[1];
  if (service !== undefined) {
    validateServiceName(service);
    return s;
  }
  return validateServiceName(s);
}
