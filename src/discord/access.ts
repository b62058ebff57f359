import { PermissionFlagsBits } from 'discord.js';
import type { Config } from '../core/config.js';
import type { Plan, Tier } from './commands/slash-command.js';

/** Who pressed enter, as the interaction tells it. */
export interface Caller {
  userId: string;
  roleIds: readonly string[];
  guildId: string | null;
  channelId: string | null;
  /** The member's permissions in that channel, from the interaction; null outside a guild. */
  permissions: bigint | null;
}

/** The edge's answer: go ahead (and whether as an admin), or a refusal fit to show the caller. */
export type Decision = { allowed: true; admin: boolean } | { allowed: false; reason: string };

type AccessConfig = Pick<
  Config,
  | 'ALLOWED_ROLE_IDS'
  | 'ALLOWED_USER_IDS'
  | 'ADMIN_ROLE_IDS'
  | 'ADMIN_USER_IDS'
  | 'ALLOWED_CHANNEL_IDS'
> &
  Partial<Pick<Config, 'DISCORD_GUILD_ID'>>;

const manage = PermissionFlagsBits.ManageGuild | PermissionFlagsBits.Administrator;

/** True for what removes things: quit, stop, scale down, and reading the audit log. */
export function needsAdmin(plan: Plan): boolean {
  if (plan.kind === 'audit') return true;
  if (plan.kind !== 'queue') return false;
  const c = plan.command;
  return c.kind === 'quit' || c.kind === 'stop' || (c.kind === 'scale' && c.direction === 'down');
}

/**
 * Deckhand's own check, run before anything is queued.
 * Admins are the ADMIN_* lists, or, when both are empty, members with Manage Server.
 * Everyone else needs the ALLOWED_* lists, or, when both are empty, only what Discord already
 * enforced through the command's default_member_permissions. Admins may always use everything.
 */
export function authorise(config: AccessConfig, caller: Caller, plan: Plan): Decision {
  if (!caller.guildId)
    return { allowed: false, reason: 'Deckhand takes commands in a server channel only.' };
  if (config.DISCORD_GUILD_ID && caller.guildId !== config.DISCORD_GUILD_ID) {
    return { allowed: false, reason: 'This Deckhand is set up for another server.' };
  }

  const channels = config.ALLOWED_CHANNEL_IDS;
  if (channels.length > 0 && !channels.includes(caller.channelId ?? '')) {
    const where = channels.map((id) => `<#${id}>`).join(', ');
    return {
      allowed: false,
      reason: `Deckhand does not take commands in this channel; use ${where}.`,
    };
  }

  const admin = isAdmin(config, caller);
  if (needsAdmin(plan) && !admin) {
    return {
      allowed: false,
      reason: 'This command removes things; only Deckhand admins may use it.',
    };
  }

  if (!admin && !isAllowed(config, caller)) {
    return { allowed: false, reason: 'You are not on the list of people who may use Deckhand.' };
  }
  return { allowed: true, admin };
}

function isAdmin(config: AccessConfig, caller: Caller): boolean {
  if (config.ADMIN_USER_IDS.length === 0 && config.ADMIN_ROLE_IDS.length === 0) {
    return ((caller.permissions ?? 0n) & manage) !== 0n;
  }
  return listed(config.ADMIN_USER_IDS, config.ADMIN_ROLE_IDS, caller);
}

function isAllowed(config: AccessConfig, caller: Caller): boolean {
  if (config.ALLOWED_USER_IDS.length === 0 && config.ALLOWED_ROLE_IDS.length === 0) return true;
  return listed(config.ALLOWED_USER_IDS, config.ALLOWED_ROLE_IDS, caller);
}

function listed(users: readonly string[], roles: readonly string[], caller: Caller): boolean {
  return users.includes(caller.userId) || caller.roleIds.some((r) => roles.includes(r));
}

/**
 * The default_member_permissions a command is registered with. Discord's gate stands in only
 * where Deckhand's own list for that tier is empty: then changing the host takes Manage Server.
 * When a list is set, the command is visible to all and Deckhand's list decides, so a listed user
 * without Manage Server is not hidden from the command. Server admins may still narrow any command
 * under Server Settings › Integrations without re-registering.
 */
export function defaultMemberPermissions(tier: Tier, config: AccessConfig): string | null {
  if (tier === 'read') return null;
  const lists =
    tier === 'admin'
      ? [config.ADMIN_USER_IDS, config.ADMIN_ROLE_IDS]
      : [config.ALLOWED_USER_IDS, config.ALLOWED_ROLE_IDS];
  return lists.some((l) => l.length > 0) ? null : PermissionFlagsBits.ManageGuild.toString();
}
