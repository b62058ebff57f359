import { SlashCommandBuilder } from 'discord.js';
import type { SlashCommand } from './slash-command.js';

const data = new SlashCommandBuilder().setName('help').setDescription('What Deckhand can do');

/** `/help`: answered by the bot itself from the console's help text; nothing is queued. */
export const help: SlashCommand = {
  definition: data.toJSON(),
  tier: 'read',
  plan: () => ({ kind: 'help' }),
};
