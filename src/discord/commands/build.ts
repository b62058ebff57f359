import { SlashCommandBuilder, type SlashCommandStringOption } from 'discord.js';
import { UserError } from '../../core/errors.js';
import { planFromWords } from './console-line.js';
import type { SlashCommand } from './slash-command.js';

const fileOption = (o: SlashCommandStringOption) =>
  o.setName('file').setDescription('File in myimages/').setRequired(true).setAutocomplete(true);
const packageOption = (o: SlashCommandStringOption) =>
  o.setName('package').setDescription('Debian package name, e.g. curl').setRequired(true);

const data = new SlashCommandBuilder()
  .setName('build')
  .setDescription('Build a new image (image_1, image_2, …) from the base image')
  .addSubcommand((s) =>
    s
      .setName('copy')
      .setDescription('Copy a file from myimages/ into the image')
      .addStringOption(fileOption),
  )
  .addSubcommand((s) =>
    s
      .setName('install')
      .setDescription('apt-install a Debian package into the image')
      .addStringOption(packageOption),
  )
  .addSubcommand((s) =>
    s
      .setName('both')
      .setDescription('Install a Debian package and copy a file from myimages/')
      .addStringOption(packageOption)
      .addStringOption(fileOption),
  )
  .addSubcommand((s) =>
    s
      .setName('netcat')
      .setDescription('Install netcat and expose a port')
      .addIntegerOption((o) =>
        o.setName('port').setDescription('Port to expose').setRequired(true),
      ),
  );

/** `/build copy|install|both|netcat`: the console's `build` with the same checks. */
export const build: SlashCommand = {
  definition: data.toJSON(),
  tier: 'operate',
  autocomplete: { file: 'files' },
  plan(o, ctx) {
    const variant = o.subcommand();
    const need = (name: string) => o.string(name) ?? '';

    switch (variant) {
      case 'copy':
        return planFromWords(['build', 'copy', need('file')], ctx);
      case 'install':
        return planFromWords(['build', 'install', need('package')], ctx);
      case 'both':
        return planFromWords(['build', 'both', need('package'), need('file')], ctx);
      case 'netcat':
        return planFromWords(['build', 'netcat', String(o.integer('port') ?? '')], ctx);
      default:
        throw new UserError(
          `unknown build variant ${String(variant)}; use copy, install, both or netcat`,
        );
    }
  },
};
