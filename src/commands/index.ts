// The command language shared by every front end: parsing a line, and the validators behind it.
export { COMMAND_USAGE, helpText } from './help.js';
export { validateImageRef } from './image-ref.js';
export { parseCommandLine, type ParsedLine, type ParseOptions } from './parse.js';
export { parsePublish } from './publish.js';
export { REFUSED_FLAGS } from './refused-flags.js';
export { parseCpus, parseMemory } from './resources.js';
export { parseRunArgs } from './run-args.js';
export { runSpecFromOptions, type RunOptionsInput } from './run-options.js';
export { parseEnv, parseHostname, parseLabel, parseUser, parseWorkdir } from './run-values.js';
export { tokenize } from './tokenize.js';
export {
  parseCount,
  parsePort,
  validateFileName,
  validatePackageName,
  validateServiceName,
} from './validate.js';
