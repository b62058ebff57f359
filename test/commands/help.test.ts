import { describe, expect, it } from 'vitest';

import { COMMAND_USAGE, helpText } from '../../src/commands/help.js';
import { parseCommandLine } from '../../src/commands/parse.js';
import { refusal } from './refusal.js';

describe('help', () => {
  it.each(Object.entries(COMMAND_USAGE))('lists %s with its usage', (_word, usage) => {
    expect(helpText()).toContain(usage);
  });

  it.each(Object.keys(COMMAND_USAGE))('explains %s with examples that parse', (word) => {
    const text = helpText(word);
    expect(text).toContain(`usage: ${COMMAND_USAGE[word]}`);

    const examples = text.slice(text.indexOf('examples:')).split('\n').slice(1);
    expect(examples.length).toBeGreaterThan(0);
    for (const example of examples) {
      expect(() => parseCommandLine(example.trim(), { maxReplicas: 20 })).not.toThrow();
    }
  });

  it('refuses a topic that is not a command, listing the commands', () => {
    const message = refusal(() => helpText('nope')).message;
    expect(message).toContain('"nope"');
    expect(message).toContain(COMMAND_USAGE.run);
  });
});
