import { SlashCommandBuilder } from 'discord.js';
import { planFromWords } from './console-line.js';
import type { SlashCommand } from './slash-command.js';

const data = new SlashCommandBuilder()
  .setName('start')
  .setDescription('Start a stopped service and all its replicas (protects it again)')
  .addStringOption((o) =>
    o.setName('service').setDescription('Service name').setRequired(true).setAutocomplete(true),
  );

/** `/start SERVICE`: the console's `start`. */
export const start: SlashCommand = {
  definition: data.toJSON(),
  tier: 'operate',
  autocomplete: { service: 'services' },
  plan: (o, ctx) => planFromWords(['start', o.string('service') ?? ''], ctx),
};
