import type { RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord.js';
import type { Command } from '../../core/types.js';

/** Reads a slash command's options; discord.js's resolver fits it, and so does a plain map in tests. */
export interface OptionReader {
  subcommand(): string | null;
  string(name: string): string | null;
  integer(name: string): number | null;
  boolean(name: string): boolean | null;
}

/** What the front end does with a slash command once its options are read. */
export type Plan =
  | { kind: 'queue'; command: Command; text: string }
  | { kind: 'help' }
  | { kind: 'audit'; limit: number };

/** Limits the parser needs from configuration. */
export interface PlanContext {
  maxReplicas: number;
}

/** Which cached list answers an autocompleted option. */
export type AutocompleteKind = 'services' | 'images' | 'files';

/**
 * Who Discord itself lets see a command before Deckhand's own check runs:
 * `read` commands change nothing, `operate` ones change the host, `admin` ones remove things.
 */
export type Tier = 'read' | 'operate' | 'admin';

/** One slash command: its registration JSON, how its options become a plan, and its autocompletion. */
export interface SlashCommand {
  definition: RESTPostAPIChatInputApplicationCommandsJSONBody;
  tier: Tier;
  plan(options: OptionReader, ctx: PlanContext): Plan;
  autocomplete?: Record<string, AutocompleteKind>;
}
