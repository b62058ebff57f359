import { SlashCommandBuilder } from 'discord.js';
import { planFromWords } from './console-line.js';
import type { SlashCommand } from './slash-command.js';

const data = new SlashCommandBuilder()
  .setName('scale')
  .setDescription('Add or remove replicas of a service (the count is an increment)')
  .addStringOption((o) =>
    o
      .setName('direction')
      .setDescription('up adds replicas, down removes them')
      .setRequired(true)
      .addChoices({ name: 'up', value: 'up' }, { name: 'down', value: 'down' }),
  )
  .addIntegerOption((o) =>
    o.setName('count').setDescription('How many replicas to add or remove').setRequired(true),
  )
  .addStringOption((o) =>
    o.setName('service').setDescription('Service name').setRequired(true).setAutocomplete(true),
  );

/** `/scale up|down COUNT SERVICE`: the console's `scale`; `down` asks for confirmation. */
export const scale: SlashCommand = {
  definition: data.toJSON(),
  // Scaling up is everyday work; scaling down is checked against the admin list at the edge.
  tier: 'operate',
  autocomplete: { service: 'services' },
  plan(o, ctx) {
    const words = [
      'scale',
      o.string('direction') ?? '',
      String(o.integer('count') ?? ''),
      o.string('service') ?? '',
    ];
    return planFromWords(words, ctx);
  },
};
