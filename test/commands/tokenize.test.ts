import { describe, expect, it } from 'vitest';

import { tokenize } from '../../src/commands/tokenize.js';
import { refusal } from './refusal.js';

describe('tokenize', () => {
  it.each([
    ['build copy script1', ['build', 'copy', 'script1']],
    ['  run   -d   x  ', ['run', '-d', 'x']],
    ['sh -c "echo hi; sleep 1000"', ['sh', '-c', 'echo hi; sleep 1000']],
    ["sh -c 'a && b | c > d'", ['sh', '-c', 'a && b | c > d']],
    ['echo a\\ b', ['echo', 'a b']],
    ['echo "" x', ['echo', '', 'x']],
    ["it'\"s'", ['it"s']],
    ['echo $HOME', ['echo', '$HOME']],
    ['echo "$HOME/bin"', ['echo', '$HOME/bin']],
    ['echo ${HOME}x', ['echo', '${HOME}x']],
    ['echo "${X:-fallback}"', ['echo', '${X:-fallback}']],
    ["echo '$(id)'", ['echo', '$(id)']],
    ['echo "$(id)"', ['echo', '$(id)']],
    ['echo $$ $? $1', ['echo', '$$', '$?', '$1']],
    ['echo *.txt', ['echo', '*.txt']],
    ['-e COLOR=a#b', ['-e', 'COLOR=a#b']],
    ["echo '#'", ['echo', '#']],
    ['', []],
  ])('splits %j into %j without expanding anything', (line, words) => {
    expect(tokenize(line)).toEqual(words);
  });

  it.each([
    ['a; b', ';'],
    ['a && b', '&&'],
    ['a || b', '||'],
    ['a | b', '|'],
    ['a > f', '>'],
    ['a >> f', '>>'],
    ['a < f', '<'],
    ['a 2>&1', '>&'],
    ['a &', '&'],
    ['a $(id)', '$('],
    ['a <(b)', '<('],
  ])('refuses the unquoted shell operator in %j, naming %s', (line, op) => {
    expect(refusal(() => tokenize(line)).message).toContain(`operator ${op} `);
  });

  it.each([
    ['a `id`', 'backtick'],
    ['a "`id`"', 'backtick'],
    ['curl\nRUN echo pwned', 'one line'],
    ['a\rb', 'one line'],
    ['a\u0000b', 'one line'],
    ['a "open', 'unclosed " quote'],
    ["a 'open", "unclosed ' quote"],
    ['a "x\\"', 'unclosed " quote'],
    ['a # comment', '#'],
    ['x'.repeat(4001), 'limit'],
  ])('refuses %j with a message about %s', (line, words) => {
    expect(refusal(() => tokenize(line)).message).toContain(words);
  });

  it('keeps escaped quotes inside a closed quote', () => {
    expect(tokenize('echo "say \\"hi\\""')).toEqual(['echo', 'say "hi"']);
  });
});
