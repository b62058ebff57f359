import { SlashCommandBuilder } from 'discord.js';
import { planFromWords } from './console-line.js';
import type { SlashCommand } from './slash-command.js';

const data = new SlashCommandBuilder()
  .setName('quit')
  .setDescription('Stop and remove everything Deckhand made: containers, proxy, network');

/** `/quit`: the console's `quit`. */
export const quit: SlashCommand = {
  definition: data.toJSON(),
  tier: 'admin',
  plan: (_o, ctx) => planFromWords(['quit'], ctx),
};
