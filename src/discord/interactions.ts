import { randomBytes } from 'node:crypto';
import {
  MessageFlags,
  type AutocompleteInteraction,
  type ChatInputCommandInteraction,
  type Interaction,
  type REST,
} from 'discord.js';
import type { Logger } from 'pino';
import { helpText } from '../commands/help.js';
import type { Config } from '../core/config.js';
import { UserError } from '../core/errors.js';
import type { Command, CommandJob } from '../core/types.js';
import { QueueUnavailableError, type CommandQueue } from '../jobs/queue.js';
import { authorise, needsAdmin } from './access.js';
import { renderAudit, type AuditEntry, type AuditLog } from './audit.js';
import type { AutocompleteCache } from './autocomplete.js';
import { callerOf, optionReader } from './caller.js';
import { slashCommands } from './commands/index.js';
import type { Plan } from './commands/slash-command.js';
import type { Confirmations } from './confirm.js';
import type { UserRateLimit } from './rate-limit.js';
import { forDiscordJs, renderFailure, textMessage } from './render.js';
import { followJob, type FollowDeps } from './follow-job.js';
import type { PendingReplies } from './pending-replies.js';
import { InteractionReply, type ReplyOptions } from './reply.js';

/** Timings of the Discord front end; the defaults suit Discord, tests shorten some. */
export interface Pacing {
  /** Least time between two progress edits of one reply (Discord allows about 5 per 5 s). */
  minEditMs: number;
  /** How long an interaction token is trusted; Discord's limit is 15 minutes. */
  tokenLifetimeMs: number;
  /** How long Redis may take to accept a command before the user is told it did not. */
  submitTimeoutMs: number;
  /** After this long without Redis accepting the command, the reply says it is waiting. */
  slowNoticeMs: number;
}

export interface HandlerDeps {
  config: Config;
  queue: CommandQueue;
  audit: AuditLog;
  cache: AutocompleteCache;
  confirmations: Confirmations;
  rateLimit: UserRateLimit;
  rest: REST;
  webhookRest: REST;
  pending: PendingReplies;
  log: Logger;
  pacing: Pacing;
}

type Who = Pick<AuditEntry, 'userId' | 'userName' | 'guildId' | 'channelId'>;

/**
 * Turns each interaction into an answer. Every path acknowledges Discord before it touches Redis:
 * refusals and bad input are answered at once, commands are deferred and then queued.
 */
export class InteractionHandler {
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly d: HandlerDeps) {}

  /** Handles one interaction; never throws (failures are logged with a reference and answered). */
  handle(interaction: Interaction): void {
    this.track(this.dispatch(interaction).catch((err: unknown) => this.crashed(interaction, err)));
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  /** Stops answering: replies still owed stay in Redis for the next run of the bot. */
  close(): void {
    this.closed = true;
  }

  /** Waits, bounded, for the interactions being answered right now. */
  async drain(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)));
    await Promise.race([Promise.allSettled([...this.inFlight]), limit]);
    clearTimeout(timer);
  }

  private async dispatch(i: Interaction): Promise<void> {
    if (this.closed) return;
    if (i.isAutocomplete()) return this.autocomplete(i);
    if (i.isButton()) {
      await this.d.confirmations.press(i);
      return;
    }
    if (i.isChatInputCommand()) return this.command(i);
  }

  private async autocomplete(i: AutocompleteInteraction): Promise<void> {
    const focused = i.options.getFocused(true);
    const kind = slashCommands.get(i.commandName)?.autocomplete?.[focused.name];
    const decision = authorise(this.d.config, callerOf(i), { kind: 'help' });
    const choices =
      kind && decision.allowed ? this.d.cache.choices(kind, String(focused.value)) : [];
    await i.respond(choices);
  }

  private async command(i: ChatInputCommandInteraction): Promise<void> {
    const who: Who = {
      userId: i.user.id,
      userName: i.user.username,
      guildId: i.guildId ?? undefined,
      channelId: i.channelId,
    };
    const label = i.toString();
    const log = this.d.log.child({ interaction: i.id, user: i.user.id, command: label });
    const audit = (outcome: AuditEntry['outcome'], extra: Partial<AuditEntry> = {}) =>
      void this.d.audit.record({ ...who, command: extra.command ?? label, outcome, ...extra });

    const slash = slashCommands.get(i.commandName);
    if (!slash) {
      await i.reply({
        content: `Unknown command /${i.commandName}; the commands may need registering again.`,
        flags: MessageFlags.Ephemeral,
      });
      return audit('invalid');
    }

    let plan: Plan;
    try {
      plan = slash.plan(optionReader(i), { maxReplicas: this.d.config.MAX_REPLICAS });
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      await i.reply({
        ...forDiscordJs(textMessage(renderFailure('user', err.message), 'error.txt')),
        flags: MessageFlags.Ephemeral,
        allowedMentions: { parse: [] },
      });
      log.info({ reason: err.message }, 'slash command refused: bad input');
      return audit('invalid', { detail: err.message.split('\n')[0] });
    }
    const text = plan.kind === 'queue' ? plan.text : label;

    const decision = authorise(this.d.config, callerOf(i), plan);
    if (!decision.allowed) {
      await i.reply({
        content: `⛔ ${decision.reason} Nothing was run.`,
        flags: MessageFlags.Ephemeral,
        allowedMentions: { parse: [] },
      });
      log.info({ reason: decision.reason }, 'slash command refused: not allowed');
      return audit('refused', { command: text, detail: decision.reason });
    }

    if (!this.d.rateLimit.take(i.user.id)) {
      const limit = this.d.config.COMMANDS_PER_MINUTE;
      await i.reply({
        content: `⛔ Slow down: at most ${limit} commands a minute each. Nothing was run.`,
        flags: MessageFlags.Ephemeral,
      });
      return audit('refused', { command: text, detail: 'rate limit' });
    }

    if (plan.kind === 'help') {
      await i.reply({
        ...forDiscordJs(textMessage('```\n' + helpText() + '\n```', 'help.txt')),
        flags: MessageFlags.Ephemeral,
      });
      return audit('answered');
    }
    if (plan.kind === 'audit') return this.showAudit(i, plan.limit, audit);

    if (needsAdmin(plan)) {
      const question = confirmation(plan.command);
      const outcome = await this.d.confirmations.ask(i, question.text, question.verb);
      if (outcome !== 'confirmed') {
        log.info({ outcome }, 'confirmation not given; nothing queued');
        return audit(outcome, { command: text });
      }
    } else {
      await i.deferReply();
    }

    await this.execute(i, plan, text, who, log, audit);
  }

  private async showAudit(
    i: ChatInputCommandInteraction,
    limit: number,
    audit: (outcome: AuditEntry['outcome']) => void,
  ): Promise<void> {
    await i.deferReply({ flags: MessageFlags.Ephemeral });
    const entries = await withTimeout(this.d.audit.recent(limit), this.d.pacing.submitTimeoutMs);
    const reply = this.reply(i, i.toString(), true);
    if (!entries)
      await reply.fail('Redis did not answer in time; the audit log cannot be read right now.');
    else await reply.finish([renderAudit(entries)]);
    audit('answered');
  }

  private async execute(
    i: ChatInputCommandInteraction,
    plan: Extract<Plan, { kind: 'queue' }>,
    text: string,
    who: Who,
    log: Logger,
    audit: (outcome: AuditEntry['outcome'], extra?: Partial<AuditEntry>) => void,
  ): Promise<void> {
    const reply = this.reply(i, text, false);
    const payload: CommandJob = {
      command: plan.command,
      requester: { source: 'discord', ...who },
      text,
    };
    const { submitTimeoutMs, slowNoticeMs } = this.d.pacing;

    const slow = setTimeout(
      () => reply.progress(`⏳ \`${text}\`: Redis is slow to take the command; still trying…`),
      slowNoticeMs,
    );
    let jobId: string;
    const asked = Date.now();
    try {
      jobId = await this.d.queue.submit(payload, submitTimeoutMs);
    } catch (err) {
      if (!(err instanceof QueueUnavailableError)) throw err;
      const timedOut = Date.now() - asked >= submitTimeoutMs - 50;
      log.warn({ err: err.message, timedOut }, 'command queue unavailable');
      await reply.fail(
        timedOut
          ? `❌ Queue unavailable: Redis did not take the command within ${Math.round(submitTimeoutMs / 1000)} s, so it most likely did not run. Check /list before trying again.`
          : '❌ Queue unavailable (Redis cannot be reached): nothing was run. Try again once Redis is back.',
      );
      return audit('unavailable', { command: text, detail: err.message });
    } finally {
      clearTimeout(slow);
    }

    log.info({ jobId }, 'command queued');
    audit('queued', { command: text, jobId });
    const owed = { jobId, who, text, until: Date.now() + this.d.config.RESULT_TIMEOUT_MS };
    void this.d.pending.remember({ ...owed, target: reply.target });
    await followJob(this.followDeps(), owed, reply);
  }

  /** Answers, after a restart, the commands a previous run of the bot queued but never answered. */
  async resume(): Promise<number> {
    const owed = await this.d.pending.all();
    for (const p of owed) {
      const reply = new InteractionReply(p.target, this.replyOptions(false));
      const work = followJob(this.followDeps(), p, reply).catch((err: unknown) =>
        this.d.log.error(
          { err, jobId: p.jobId },
          'could not answer a command queued before restart',
        ),
      );
      this.track(work);
    }
    if (owed.length > 0)
      this.d.log.info({ count: owed.length }, 'answering commands queued before restart');
    return owed.length;
  }

  private followDeps(): FollowDeps {
    const { queue, audit, cache, pending, log } = this.d;
    return { queue, audit, cache, pending, log, active: () => !this.closed };
  }

  private replyOptions(ephemeral: boolean): ReplyOptions {
    const { minEditMs, tokenLifetimeMs } = this.d.pacing;
    const { rest, webhookRest, log } = this.d;
    return {
      rest,
      webhookRest,
      log,
      minEditMs,
      tokenLifetimeMs,
      ephemeral,
      active: () => !this.closed,
    };
  }

  private reply(
    i: ChatInputCommandInteraction,
    label: string,
    ephemeral: boolean,
  ): InteractionReply {
    const target = {
      applicationId: i.applicationId,
      token: i.token,
      channelId: i.channelId,
      userId: i.user.id,
      createdAt: i.createdTimestamp,
      label,
    };
    return new InteractionReply(target, this.replyOptions(ephemeral));
  }

  /** Last resort: log the failure with a reference and tell the user that reference. */
  private async crashed(i: Interaction, err: unknown): Promise<void> {
    const ref = newRef();
    this.d.log.error(
      { err, ref, interaction: i.id, user: i.user.id },
      'interaction failed with an internal error',
    );
    if (!i.isRepliable()) return;
    const content = renderFailure('internal', '', ref);
    try {
      if (i.replied || i.deferred) await i.followUp({ content, flags: MessageFlags.Ephemeral });
      else await i.reply({ content, flags: MessageFlags.Ephemeral });
    } catch (replyErr) {
      this.d.log.warn({ err: replyErr, ref }, 'could not tell the user about the internal error');
    }
  }
}

/** The question and button label for a command that removes things. */
function confirmation(c: Command): { text: string; verb: string } {
  switch (c.kind) {
    case 'quit':
      return {
        text: 'Remove **everything** Deckhand made: every container, then the proxy, then the network?',
        verb: 'Quit: remove everything',
      };
    case 'stop':
      return {
        text: `Stop **${c.name}** and all its replicas? It will not be recovered until started again.`,
        verb: `Stop ${c.name}`.slice(0, 80),
      };
    case 'scale':
      return {
        text: `Remove **${c.count}** replica${c.count === 1 ? '' : 's'} of **${c.name}**?`,
        verb: 'Scale down',
      };
    default:
      return { text: `Run \`${c.kind}\`?`, verb: 'Confirm' };
  }
}

function newRef(): string {
  return randomBytes(4).toString('hex');
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
