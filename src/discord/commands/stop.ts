import { SlashCommandBuilder } from 'discord.js';
import { planFromWords } from './console-line.js';
import type { SlashCommand } from './slash-command.js';

const data = new SlashCommandBuilder()
  .setName('stop')
  .setDescription('Stop a service and all its replicas (drops it from recovery)')
  .addStringOption((o) =>
    o.setName('service').setDescription('Service name').setRequired(true).setAutocomplete(true),
  );

/** `/stop SERVICE`: the console's `stop`. */
export const stop: SlashCommand = {
  definition: data.toJSON(),
  tier: 'admin',
  autocomplete: { service: 'services' },
  plan: (o, ctx) => planFromWords(['stop', o.string('service') ?? ''], ctx),
};
