import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import {
  authorise,
  defaultMemberPermissions,
  needsAdmin,
  type Caller,
} from '../../src/discord/access.js';
import type { Plan } from '../../src/discord/commands/slash-command.js';

const ROLE = '200000000000000001';
const ADMIN_ROLE = '200000000000000002';
const USER = '300000000000000001';
const CHANNEL = '400000000000000001';
const MANAGE = 1n << 5n;

const plan = (command: any): Plan => ({ kind: 'queue', command, text: '' });
const list = plan({ kind: 'list' });
const stop = plan({ kind: 'stop', name: 'worker1' });
const scaleUp = plan({ kind: 'scale', direction: 'up', count: 1, name: 'w' });
const scaleDown = plan({ kind: 'scale', direction: 'down', count: 1, name: 'w' });
const quit = plan({ kind: 'quit' });
const audit: Plan = { kind: 'audit', limit: 5 };

const caller = (over: Partial<Caller> = {}): Caller => ({
  userId: '300000000000000099',
  roleIds: [],
  guildId: '500000000000000001',
  channelId: CHANNEL,
  permissions: 0n,
  ...over,
});

const open = loadConfig({});
const listed = loadConfig({
  ALLOWED_ROLE_IDS: ROLE,
  ADMIN_ROLE_IDS: ADMIN_ROLE,
  ALLOWED_CHANNEL_IDS: CHANNEL,
});

describe('needsAdmin', () => {
  it.each([
    ['list', list, false],
    ['scale up', scaleUp, false],
    ['scale down', scaleDown, true],
    ['stop', stop, true],
    ['quit', quit, true],
    ['audit', audit, true],
  ])('%s -> %s', (_name, p, expected) => expect(needsAdmin(p)).toBe(expected));
});

describe('authorise', () => {
  it.each([
    ['anyone may list when no list is configured', open, caller(), list, true],
    ['a plain member may not stop when no admin list is configured', open, caller(), stop, false],
    [
      'Manage Server stands in for the admin list when it is empty',
      open,
      caller({ permissions: MANAGE }),
      quit,
      true,
    ],
    ['a member without the role is refused', listed, caller(), list, false],
    ['a member with the role may scale up', listed, caller({ roleIds: [ROLE] }), scaleUp, true],
    [
      'a member with the role may not scale down',
      listed,
      caller({ roleIds: [ROLE] }),
      scaleDown,
      false,
    ],
    [
      'Manage Server is not enough once an admin list is set',
      listed,
      caller({ roleIds: [ROLE], permissions: MANAGE }),
      stop,
      false,
    ],
    ['an admin may stop', listed, caller({ roleIds: [ADMIN_ROLE] }), stop, true],
    [
      'an admin may use everyday commands without the role',
      listed,
      caller({ roleIds: [ADMIN_ROLE] }),
      list,
      true,
    ],
    [
      'a listed user id counts like the role',
      loadConfig({ ALLOWED_USER_IDS: USER }),
      caller({ userId: USER }),
      list,
      true,
    ],
    [
      'another channel is refused',
      listed,
      caller({ roleIds: [ROLE], channelId: '400000000000000002' }),
      list,
      false,
    ],
    ['a direct message is refused', open, caller({ guildId: null }), list, false],
    [
      'another server is refused when one is configured',
      loadConfig({ DISCORD_GUILD_ID: '500000000000000002' }),
      caller(),
      list,
      false,
    ],
    [
      'the configured server is accepted',
      loadConfig({ DISCORD_GUILD_ID: '500000000000000001' }),
      caller(),
      list,
      true,
    ],
  ])('%s', (_name, config, who, p, allowed) => {
    expect(authorise(config, who, p).allowed).toBe(allowed);
  });

  it('says why, in words fit for the channel', () => {
    const d = authorise(listed, caller({ roleIds: [ROLE], channelId: '400000000000000002' }), list);
    expect(d).toEqual({ allowed: false, reason: expect.stringContaining(`<#${CHANNEL}>`) });
  });
});

describe('defaultMemberPermissions', () => {
  it.each([
    ['read', open, null],
    ['operate', open, MANAGE.toString()],
    ['admin', open, MANAGE.toString()],
    ['operate', listed, null],
    ['admin', listed, null],
    ['admin', loadConfig({ ALLOWED_ROLE_IDS: ROLE }), MANAGE.toString()],
  ] as const)('%s tier -> %s', (tier, config, expected) => {
    expect(defaultMemberPermissions(tier, config)).toBe(expected);
  });
});
