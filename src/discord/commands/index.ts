import { audit } from './audit.js';
import { build } from './build.js';
import { help } from './help.js';
import { list } from './list.js';
import { quit } from './quit.js';
import { recovery } from './recovery.js';
import { run } from './run.js';
import { scale } from './scale.js';
import type { SlashCommand } from './slash-command.js';
import { start } from './start.js';
import { stop } from './stop.js';

/** Every slash command Deckhand registers, by name. */
export const slashCommands: ReadonlyMap<string, SlashCommand> = new Map(
  [build, run, scale, stop, start, list, recovery, quit, help, audit].map((c) => [
    c.definition.name,
    c,
  ]),
);
