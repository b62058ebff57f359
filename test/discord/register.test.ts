import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import { registerCommands } from '../../src/discord/register.js';
import { DiscordStandIn } from './stand-in/stand-in.js';

let standIn: DiscordStandIn;
const log = pino({ level: 'silent' });

beforeAll(async () => {
  standIn = await new DiscordStandIn().start();
});
afterAll(async () => {
  await standIn?.close();
});

const env = (extra: Record<string, string> = {}) =>
  loadConfig({ DISCORD_TOKEN: standIn.token, DISCORD_API_BASE: standIn.apiBase, ...extra });

describe('registerCommands', () => {
  it('registers every command to the guild, and a second run leaves the same state', async () => {
    const config = env({ DISCORD_GUILD_ID: standIn.guildId });
    const first = await registerCommands(config, log);
    const after1 = structuredClone(standIn.commands.get(standIn.guildId));
    await registerCommands(config, log);
    const after2 = standIn.commands.get(standIn.guildId);

    expect(first.scope).toBe('guild');
    expect(first.applicationId).toBe(standIn.applicationId);
    expect(first.names).toEqual([
      'audit',
      'build',
      'help',
      'list',
      'quit',
      'recovery',
      'run',
      'scale',
      'start',
      'stop',
    ]);
    expect(after2).toEqual(after1);
    expect(standIn.commands.has('global')).toBe(false);
    expect(standIn.requests.filter((r) => r.method === 'PUT')).toHaveLength(2);
  });

  it('registers globally without a guild id, using DISCORD_APP_ID when given', async () => {
    const result = await registerCommands(env({ DISCORD_APP_ID: standIn.applicationId }), log);
    expect(result.scope).toBe('global');
    expect(standIn.commands.get('global')).toHaveLength(10);
  });

  it('limits commands to servers and gates changing ones behind Manage Server when no list is set', async () => {
    await registerCommands(env({ DISCORD_GUILD_ID: standIn.guildId }), log);
    const byName = new Map(standIn.commands.get(standIn.guildId)!.map((c) => [c.name, c]));
    expect(byName.get('list').default_member_permissions).toBeNull();
    expect(byName.get('help').default_member_permissions).toBeNull();
    expect(byName.get('run').default_member_permissions).toBe('32');
    expect(byName.get('quit').default_member_permissions).toBe('32');
    for (const c of byName.values()) expect(c.contexts).toEqual([0]);
  });

  it('leaves the gate to Deckhand once its lists are set', async () => {
    await registerCommands(
      env({
        DISCORD_GUILD_ID: standIn.guildId,
        ALLOWED_ROLE_IDS: '200000000000000001',
        ADMIN_USER_IDS: '100000000000000001',
      }),
      log,
    );
    const perms = standIn.commands.get(standIn.guildId)!.map((c) => c.default_member_permissions);
    expect(perms.every((p) => p === null)).toBe(true);
  });

  it('gives /build its four kinds and /run both its structured options and args', async () => {
    await registerCommands(env({ DISCORD_GUILD_ID: standIn.guildId }), log);
    const byName = new Map(standIn.commands.get(standIn.guildId)!.map((c) => [c.name, c]));
    expect(byName.get('build').options.map((o: any) => o.name)).toEqual([
      'copy',
      'install',
      'both',
      'netcat',
    ]);
    expect(byName.get('run').options.map((o: any) => o.name)).toEqual([
      'args',
      'image',
      'command',
      'publish',
      'name',
      'env',
      'interactive',
      'tty',
    ]);
    expect(byName.get('scale').options.map((o: any) => o.name)).toEqual([
      'direction',
      'count',
      'service',
    ]);
  });
});
