import type { ChatInputCommandInteraction, AutocompleteInteraction } from 'discord.js';
import type { Caller } from './access.js';
import type { OptionReader } from './commands/slash-command.js';

/** Who sent an interaction, from what the interaction itself carries (no cache, no fetch). */
export function callerOf(i: ChatInputCommandInteraction | AutocompleteInteraction): Caller {
  const roles = i.member?.roles;
  const roleIds = Array.isArray(roles) ? roles : roles ? [...roles.cache.keys()] : [];
  return {
    userId: i.user.id,
    roleIds,
    guildId: i.guildId,
    channelId: i.channelId,
    permissions: i.memberPermissions?.bitfield ?? null,
  };
}

/** discord.js's option resolver seen through the small interface the command files read. */
export function optionReader(i: ChatInputCommandInteraction): OptionReader {
  return {
    subcommand: () => i.options.getSubcommand(false),
    string: (name) => i.options.getString(name),
    integer: (name) => i.options.getInteger(name),
    boolean: (name) => i.options.getBoolean(name),
  };
}
