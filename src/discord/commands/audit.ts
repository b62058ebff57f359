import { SlashCommandBuilder } from 'discord.js';
import type { SlashCommand } from './slash-command.js';

const data = new SlashCommandBuilder()
  .setName('audit')
  .setDescription('Show the most recent commands: who, where, what, outcome (admins)')
  .addIntegerOption((o) =>
    o
      .setName('count')
      .setDescription('How many entries (default 15)')
      .setMinValue(1)
      .setMaxValue(50),
  );

/** `/audit [count]`: reads the audit stream; admins only, nothing is queued. */
export const audit: SlashCommand = {
  definition: data.toJSON(),
  tier: 'admin',
  plan: (o) => ({ kind: 'audit', limit: o.integer('count') ?? 15 }),
};
