import {
  ApplicationIntegrationType,
  InteractionContextType,
  REST,
  Routes,
  type APIApplication,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import type { Logger } from 'pino';
import { ConfigError, type Config } from '../core/config.js';
import { defaultMemberPermissions } from './access.js';
import { slashCommands } from './commands/index.js';

/** The JSON Deckhand registers: every slash command, usable in servers only, with its permissions. */
export function commandBodies(config: Config): RESTPostAPIChatInputApplicationCommandsJSONBody[] {
  return [...slashCommands.values()].map((c) => ({
    ...c.definition,
    default_member_permissions: defaultMemberPermissions(c.tier, config),
    contexts: [InteractionContextType.Guild],
    integration_types: [ApplicationIntegrationType.GuildInstall],
  }));
}

/** A REST client for Deckhand's token, pointed at DISCORD_API_BASE when set. */
export function discordRest(config: Config): REST {
  if (!config.DISCORD_TOKEN) throw new ConfigError('DISCORD_TOKEN: required to talk to Discord');
  const rest = new REST(config.DISCORD_API_BASE ? { api: config.DISCORD_API_BASE } : {});
  return rest.setToken(config.DISCORD_TOKEN);
}

/**
 * Registers the slash commands: to DISCORD_GUILD_ID when set (visible at once), globally otherwise.
 * Discord's bulk overwrite replaces the whole set, so running it again changes nothing.
 */
export async function registerCommands(
  config: Config,
  log: Logger,
  rest: REST = discordRest(config),
): Promise<{ applicationId: string; scope: 'guild' | 'global'; names: string[] }> {
  const applicationId =
    config.DISCORD_APP_ID ??
    ((await rest.get(Routes.oauth2CurrentApplication())) as APIApplication).id;

  const body = commandBodies(config);
  const route = config.DISCORD_GUILD_ID
    ? Routes.applicationGuildCommands(applicationId, config.DISCORD_GUILD_ID)
    : Routes.applicationCommands(applicationId);
  const saved = (await rest.put(route, { body })) as { name: string }[];

  const scope = config.DISCORD_GUILD_ID ? 'guild' : 'global';
  const names = saved.map((c) => c.name).sort();
  log.info(
    { applicationId, scope, guildId: config.DISCORD_GUILD_ID, commands: names },
    'slash commands registered',
  );
  return { applicationId, scope, names };
}
