import { parse, type ParseEntry } from 'shell-quote';

import { UserError } from '../core/errors.js';
import { show } from './show.js';

const MAX_LINE = 4000;

/**
 * Splits one command line into words as a POSIX shell would, without ever running or expanding
 * anything: quotes group, `$VAR` stays literal, and unquoted shell operators are refused.
 */
export function tokenize(line: string): string[] {
  if (line.length > MAX_LINE) {
    throw new UserError(`the command is ${line.length} characters long; the limit is ${MAX_LINE}`);
  }

  // A newline is a command separator to a shell, and no other control character belongs in a
  // command, so a line carrying one is refused before any word is read.
  const control = /[\u0000-\u0008\u000a-\u001f\u007f]/.exec(line);
  if (control) {
    throw new UserError(`the command must be one line of text; it contains ${show(control[0])}`);
  }

  // Deckhand runs no shell, so a backtick could only mislead: refuse it wherever it is.
  if (line.includes('`')) {
    throw new UserError('backticks (`) are not accepted: Deckhand runs no shell on the host');
  }

  const escaped = checkQuoting(line);
  return words(parse(escaped, (key) => literalVariable(line, key)));
}

function words(entries: ParseEntry[]): string[] {
  const out: string[] = [];

  for (const [i, entry] of entries.entries()) {
    if (typeof entry === 'string') {
      out.push(entry);
      continue;
    }

    // Nothing expands globs here; the pattern is passed on as the literal text it was.
    if ('op' in entry && entry.op === 'glob') {
      out.push(entry.pattern);
      continue;
    }

    if ('comment' in entry) throw new Error('tokenize: checkQuoting let a comment through');

    const before = entries[i - 1];
    const substitution = entry.op === '(' && typeof before === 'string' && before.endsWith('$');
    const op = substitution ? '$(' : entry.op;
    throw new UserError(
      `the shell operator ${op} is not accepted (Deckhand runs no shell); quote it to pass it on`,
    );
  }

  return out;
}

/** Gives back a variable reference as it was typed, so shell-quote's expansion becomes a no-op. */
function literalVariable(line: string, key: string): string {
  if (key === '') return '$';
  if (/^(\w+|[*@#?$!-])$/.test(key) && !line.includes(`\${${key}}`)) return `$${key}`;
  return `\${${key}}`;
}

/**
 * Walks the line's quoting as a shell would, to do the two things shell-quote does differently from
 * a shell: it silently drops an unclosed quote, and it reads `#` inside a word (`COLOR=a#b`) as the
 * start of a comment. The first is refused; the second is escaped so the `#` stays in its word.
 */
function checkQuoting(line: string): string {
  let open: '"' | "'" | "$'" | undefined;
  let out = '';

  for (let i = 0; i < line.length; i++) {
    const c = line[i] ?? '';
    const before = line[i - 1] ?? '';
    out += c;

    if (open === "'") {
      if (c === "'") open = undefined;
    } else if (c === '\\') {
      out += line[i + 1] ?? '';
      i++;
    } else if (open) {
      if (c === open.at(-1)) open = undefined;
    } else if (c === '"') {
      open = '"';
    } else if (c === "'") {
      open = before === '$' ? "$'" : "'";
    } else if (c === '#' && (i === 0 || /\s/.test(before))) {
      throw new UserError('an unquoted # starts a shell comment; quote it to pass it on');
    } else if (c === '#') {
      out = `${out.slice(0, -1)}\\#`;
    }
  }

  if (open) throw new UserError(`the command has an unclosed ${open.at(-1)} quote`);
  return out;
}
