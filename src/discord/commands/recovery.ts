import { SlashCommandBuilder } from 'discord.js';
import { planFromWords } from './console-line.js';
import type { SlashCommand } from './slash-command.js';

const data = new SlashCommandBuilder()
  .setName('recovery')
  .setDescription('Bring back every crashed container that should run, now');

/** `/recovery`: the console's `recovery`. */
export const recovery: SlashCommand = {
  definition: data.toJSON(),
  tier: 'operate',
  plan: (_o, ctx) => planFromWords(['recovery'], ctx),
};
