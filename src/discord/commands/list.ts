import { SlashCommandBuilder } from 'discord.js';
import { planFromWords } from './console-line.js';
import type { SlashCommand } from './slash-command.js';

const data = new SlashCommandBuilder()
  .setName('list')
  .setDescription('Show every service Deckhand manages');

/** `/list`: the console's `list`. */
export const list: SlashCommand = {
  definition: data.toJSON(),
  tier: 'read',
  plan: (_o, ctx) => planFromWords(['list'], ctx),
};
