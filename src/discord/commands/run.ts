import { SlashCommandBuilder } from 'discord.js';
import { tokenize } from '../../commands/tokenize.js';
import { UserError } from '../../core/errors.js';
import { planFromWords } from './console-line.js';
import type { SlashCommand } from './slash-command.js';

const data = new SlashCommandBuilder()
  .setName('run')
  .setDescription('Run a container from an image, as docker run does')
  .addStringOption((o) =>
    o
      .setName('args')
      .setDescription('docker-run syntax, e.g. -itd -p 80 image_1 nc -l -p 80')
      .setMaxLength(1500),
  )
  .addStringOption((o) =>
    o.setName('image').setDescription('Image to run, e.g. image_1').setAutocomplete(true),
  )
  .addStringOption((o) =>
    o
      .setName('command')
      .setDescription("The container's command, e.g. nc -l -p 80 (quotes group words)")
      .setMaxLength(1000),
  )
  .addStringOption((o) =>
    o.setName('publish').setDescription('Ports to publish, space-separated: 80 8080:80 53/udp'),
  )
  .addStringOption((o) =>
    o.setName('name').setDescription('Service name (default worker1, worker2, …)'),
  )
  .addStringOption((o) =>
    o
      .setName('env')
      .setDescription('Environment, space-separated KEY=VALUE (quote values with spaces)'),
  )
  .addBooleanOption((o) => o.setName('interactive').setDescription('Keep stdin open (-i)'))
  .addBooleanOption((o) => o.setName('tty').setDescription('Allocate a terminal (-t)'));

/** Splits a list option typed as "80 8080:80" or "80, 8080:80". */
function listed(value: string | null): string[] {
  return (value ?? '').split(/[\s,]+/).filter(Boolean);
}

/**
 * `/run`: either `args` in docker-run syntax (exactly what the console takes after `run`), or an
 * image with structured options; the structured flags may also stand in front of `args`.
 * The structured form always runs detached: nobody can attach to a container from a chat.
 */
export const run: SlashCommand = {
  definition: data.toJSON(),
  tier: 'operate',
  autocomplete: { image: 'images' },
  plan(o, ctx) {
    const args = o.string('args');
    const image = o.string('image');
    const command = o.string('command');

    if (args && (image || command)) {
      throw new UserError('give either args (docker-run syntax) or image and command, not both');
    }
    if (!args && !image) {
      throw new UserError('give an image (or args in docker-run syntax, e.g. -d -p 80 image_1)');
    }

    const words = args ? ['run'] : ['run', '-d'];
    if (o.boolean('interactive')) words.push('-i');
    if (o.boolean('tty')) words.push('-t');
    for (const p of listed(o.string('publish'))) words.push('-p', p);
    const name = o.string('name');
    if (name) words.push('--name', name);

    // KEY=VALUE pairs may hold quoted spaces, so they are split by the console's own tokenizer.
    for (const pair of tokenize(o.string('env') ?? '')) words.push('-e', pair);

    if (args) return planFromWords(words, ctx, args);
    return planFromWords([...words, image ?? ''], ctx, command ?? undefined);
  },
};
