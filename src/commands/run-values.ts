import { UserError } from '../core/errors.js';
import { show } from './show.js';

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;
const USER = /^[A-Za-z0-9_][A-Za-z0-9_.-]*(?::[A-Za-z0-9_][A-Za-z0-9_.-]*)?$/;
const HOST_LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOSTNAME = new RegExp(`^${HOST_LABEL}(?:\\.${HOST_LABEL})*$`);

/** Accepts an `-e` value of the form KEY=VALUE with a well-formed KEY. */
export function parseEnv(value: string): string {
  const eq = value.indexOf('=');

  // docker-run's bare `-e KEY` copies KEY from the caller's environment, which here would be the
  // bot's own (tokens included), so only explicit KEY=VALUE is accepted.
  if (eq < 0) {
    throw new UserError(
      `-e ${show(value)}: give KEY=VALUE; ` +
        'Deckhand does not pass on variables from its own environment',
    );
  }
  const key = value.slice(0, eq);
  if (!ENV_KEY.test(key)) {
    throw new UserError(
      `-e ${show(value)}: ${show(key)} is not a variable name ` +
        '(letters, digits, _ . -, not starting with a digit)',
    );
  }
  return value;
}

/** Reads an `-l` value (`key=value` or `key`) into a pair, refusing Deckhand's own label keys. */
export function parseLabel(value: string): [string, string] {
  const eq = value.indexOf('=');
  const key = eq < 0 ? value : value.slice(0, eq);
  const text = eq < 0 ? '' : value.slice(eq + 1);

  if (key.length > 128 || !LABEL_KEY.test(key)) {
    throw new UserError(
      `-l ${show(value)}: ${show(key)} is not a label key (letters, digits, . _ / -)`,
    );
  }
  if (key.toLowerCase().startsWith('deckhand.')) {
    throw new UserError(`-l ${show(value)}: label keys starting with deckhand. belong to Deckhand`);
  }
  return [key, text];
}

/** Accepts a `-w` working directory, which must be an absolute path. */
export function parseWorkdir(value: string): string {
  if (!value.startsWith('/') || value.length > 4096) {
    throw new UserError(`-w ${show(value)}: the working directory must be an absolute path`);
  }
  return value;
}

/** Accepts a `-u` user as name or id, optionally followed by :group. */
export function parseUser(value: string): string {
  if (value.length > 64 || !USER.test(value)) {
    throw new UserError(`-u ${show(value)}: give a user name or id, optionally :group`);
  }
  return value;
}

/** Accepts a `-h` host name made of RFC 1123 labels. */
export function parseHostname(value: string): string {
  if (value.length > 253 || !HOSTNAME.test(value)) {
    throw new UserError(`-h ${show(value)} is not a valid host name`);
  }
  return value;
}
