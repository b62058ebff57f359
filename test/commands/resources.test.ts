import { describe, expect, it } from 'vitest';

import { parseCpus, parseMemory } from '../../src/commands/resources.js';
import { refusal } from './refusal.js';

describe('memory sizes', () => {
  it.each([
    ['512m', 512 * 1024 ** 2],
    ['512M', 512 * 1024 ** 2],
    ['512mb', 512 * 1024 ** 2],
    ['1g', 1024 ** 3],
    ['1.5g', 1.5 * 1024 ** 3],
    ['10240k', 10240 * 1024],
    ['1t', 1024 ** 4],
    ['6291456', 6291456],
    ['6291456b', 6291456],
  ])('reads %j as %i bytes', (text, bytes) => {
    expect(parseMemory(text)).toBe(bytes);
  });

  it.each(['', 'lots', '1q', '-1g', '1 g', 'g', '1.g', '1e9', '5m', '1024k', '99999999999999t'])(
    'refuses %j, naming it',
    (text) => {
      expect(refusal(() => parseMemory(text)).message).toContain(JSON.stringify(text));
    },
  );
});

describe('cpu limits', () => {
  it.each([
    ['1', 1e9],
    ['1.5', 1.5e9],
    ['0.01', 1e7],
    ['.5', 5e8],
    ['2.', 2e9],
    ['1024', 1024e9],
  ])('reads %j as %i nano-CPUs', (text, nano) => {
    expect(parseCpus(text)).toBe(nano);
  });

  it.each(['0', '0.001', '-1', 'two', '', '1e3', '1025', 'NaN', 'Infinity', '1.5.5'])(
    'refuses %j, naming it',
    (text) => {
      expect(refusal(() => parseCpus(text)).message).toContain(JSON.stringify(text));
    },
  );
});
