import { readdir } from 'node:fs/promises';
import type { ApplicationCommandOptionChoiceData } from 'discord.js';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { StateStore } from '../engine/docker/store.js';
import type { CommandResult } from '../core/types.js';
import type { AutocompleteKind } from './commands/slash-command.js';

/** Where autocompletion's names come from; asked in the background, never while a user types. */
export interface AutocompleteSource {
  services(): Promise<string[]>;
  images(): Promise<string[]>;
  files(): Promise<string[]>;
}

/** File names offered for `build copy`: plain files in MYIMAGES_DIR, no hidden ones. */
export function myimagesSource(dir: string): AutocompleteSource {
  return {
    services: async () => [],
    images: async () => [],
    files: async () => {
      const entries = await readdir(dir, { withFileTypes: true });
      return entries.filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => e.name);
    },
  };
}

/** Service names and their images from the engine's desired state in Redis, files from myimages/. */
export function deckhandSource(
  redis: Redis,
  prefix: string,
  myimagesDir: string,
): AutocompleteSource {
  const store = new StateStore(redis, prefix);
  return {
    services: async () => (await store.all()).map((r) => r.name),
    images: async () => [...new Set((await store.all()).map((r) => r.spec.image))],
    files: myimagesSource(myimagesDir).files,
  };
}

const MAX_CHOICES = 25;

/**
 * Names for autocompletion, held in memory so an answer never waits on Redis or the disk.
 * Refreshed from the source in the background, and topped up from results the bot sees
 * (`list` names every service; `build` names its image).
 */
export class AutocompleteCache {
  private readonly known: Record<AutocompleteKind, Set<string>> = {
    services: new Set(),
    images: new Set(),
    files: new Set(),
  };
  private readonly observed: Record<'services' | 'images', Set<string>> = {
    services: new Set(),
    images: new Set(),
  };
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly source: AutocompleteSource,
    private readonly log: Logger,
    private readonly refreshMs = 15_000,
  ) {}

  /** Fills the cache now, then keeps refreshing it until stop(). */
  start(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Asks the source for every list; a list that fails keeps its previous names. */
  refresh(): Promise<void> {
    // While Redis is away a refresh can take long; never stack a second one on top of it.
    this.refreshing ??= this.load().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async load(): Promise<void> {
    const kinds: AutocompleteKind[] = ['services', 'images', 'files'];
    await Promise.all(
      kinds.map(async (kind) => {
        try {
          const names = await this.source[kind]();
          const extra = kind === 'files' ? [] : [...this.observed[kind]];
          this.known[kind] = new Set([...names, ...extra]);
        } catch (err) {
          this.log.debug({ err, kind }, 'autocomplete source failed; keeping the names it had');
        }
      }),
    );
  }

  /** Learns names from a result: `list` gives the whole service list, `build` a new image. */
  observe(result: CommandResult): void {
    if (result.services) {
      const services = new Set(result.services.map((s) => s.name));
      this.observed.services = services;
      this.known.services = new Set(services);
      for (const s of result.services) this.remember('images', s.image);
    }
    if (result.image) this.remember('images', result.image);
  }

  /** At most 25 choices that contain what was typed, the ones starting with it first. */
  choices(kind: AutocompleteKind, typed: string): ApplicationCommandOptionChoiceData<string>[] {
    const needle = typed.toLowerCase();
    const names = [...this.known[kind]].filter((n) => n.toLowerCase().includes(needle));
    names.sort((a, b) => {
      const rank =
        Number(!a.toLowerCase().startsWith(needle)) - Number(!b.toLowerCase().startsWith(needle));
      return rank || a.localeCompare(b, 'en', { numeric: true });
    });
    return names
      .slice(0, MAX_CHOICES)
      .map((n) => ({ name: n.slice(0, 100), value: n.slice(0, 100) }));
  }

  private remember(kind: 'services' | 'images', name: string): void {
    this.observed[kind].add(name);
    this.known[kind].add(name);
  }
}
