import { UserError } from '../core/errors.js';
import { show } from './show.js';

const UNITS = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 } as const;

// The Docker engine refuses memory limits below 6 MiB; saying so here names the flag.
const MIN_MEMORY = 6 * 1024 ** 2;

/** Turns a docker-style size (`512m`, `1g`, `1024k`, `1.5g`, `536870912`) into bytes. */
export function parseMemory(s: string): number {
  const match = /^(\d+(?:\.\d+)?)([kmgt]?)b?$/i.exec(s);
  const unit = (match?.[2] ?? '').toLowerCase() as keyof typeof UNITS;
  const bytes = match ? Math.floor(Number(match[1]) * UNITS[unit]) : NaN;

  if (!Number.isSafeInteger(bytes)) {
    throw new UserError(`memory ${show(s)} is not a size; give e.g. 512m, 1g or 1024k`, {
      value: s,
    });
  }
  if (bytes < MIN_MEMORY) {
    throw new UserError(`memory ${show(s)} is below the engine's minimum of 6m`, { value: s });
  }
  return bytes;
}

/** Turns a `--cpus` value such as `1.5` into the engine's NanoCpus (1.5e9). */
export function parseCpus(s: string): number {
  const cpus = /^(\d+(\.\d*)?|\.\d+)$/.test(s) ? Number(s) : NaN;

  if (!(cpus >= 0.01 && cpus <= 1024)) {
    throw new UserError(`--cpus ${show(s)} must be a number of CPUs from 0.01 to 1024, e.g. 1.5`, {
      value: s,
    });
  }
  return Math.round(cpus * 1e9);
}
