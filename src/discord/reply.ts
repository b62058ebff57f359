import {
  DiscordAPIError,
  MessageFlags,
  Routes,
  type REST,
  type RESTPostAPIChannelMessageJSONBody,
} from 'discord.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { OutMessage } from './render.js';
import { textMessage } from './render.js';

/** The parts of an interaction a reply needs; taken apart so a late reply works without it. */
export interface ReplyTarget {
  applicationId: string;
  token: string;
  channelId: string | null;
  userId: string;
  /** When Discord created the interaction; its token works for 15 minutes from then. */
  createdAt: number;
  /** What the person asked, shown when the answer has to go to the channel instead. */
  label: string;
}

export interface ReplyOptions {
  /** The bot's REST client, for posting in the channel. */
  rest: REST;
  /** REST client for interaction-token routes, which Discord leaves out of the global rate limit. */
  webhookRest: REST;
  log: Logger;
  /** Least time between two progress edits of one reply. */
  minEditMs: number;
  /** How long the interaction token is trusted; a little under Discord's 15 minutes. */
  tokenLifetimeMs: number;
  /** Whether the acknowledgement was ephemeral (then an error can simply replace it). */
  ephemeral: boolean;
  /** False once the bot is stopping: nothing more is sent, the next run answers instead. */
  active?: () => boolean;
}

// Codes Discord answers with once an interaction token no longer works, or the reply is gone.
const deadToken = new Set<number | string>([50027, 10015, 10062, 10008]);

/** True when Discord refused a webhook call because the interaction token expired or is unknown. */
export function isDeadToken(err: unknown): boolean {
  return err instanceof DiscordAPIError && (deadToken.has(err.code) || err.status === 401);
}

/**
 * The answer to one acknowledged interaction: progress edits paced for Discord, then the result.
 * Once the token has expired (or Discord says so) everything goes to the channel as a normal
 * message that mentions the person who asked.
 */
export class InteractionReply {
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private pending: string | undefined;
  private lastEdit = 0;
  private dead = false;
  private finished = false;

  constructor(
    readonly target: ReplyTarget,
    private readonly options: ReplyOptions,
  ) {}

  /** Shows progress by editing the reply, at most once per minEditMs; the newest text wins. */
  progress(content: string): void {
    if (this.finished || this.expired()) return;
    this.pending = content;
    if (this.timer) return;

    const wait = Math.max(0, this.lastEdit + this.options.minEditMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const text = this.pending;
      this.pending = undefined;
      if (text === undefined || this.finished) return;
      this.enqueue(async () => {
        // The previous edit may have finished late; keep the pace from when it was really sent.
        const behind = this.lastEdit + this.options.minEditMs - Date.now();
        if (behind > 0) await sleep(behind);
        if (this.finished) return;
        this.lastEdit = Date.now();
        await this.edit({ content: text }, true);
      });
    }, wait);
  }

  /** Replaces the reply with the result; further messages follow it. */
  async finish(messages: OutMessage[]): Promise<void> {
    this.stopProgress();
    await this.enqueue(async () => {
      const [first, ...rest] = messages;
      if (first) await this.edit(first, false);
      for (const m of rest) await this.followUp(m, false);
    });
  }

  /** Shows an error to the person who asked only (in the channel, mentioning them, once expired). */
  async fail(text: string): Promise<void> {
    this.stopProgress();
    const message = textMessage(text, 'error.txt');
    await this.enqueue(async () => {
      if (this.options.ephemeral) return this.edit(message, false);
      if (!this.expired()) {
        await this.options.webhookRest
          .delete(
            Routes.webhookMessage(this.target.applicationId, this.target.token, '@original'),
            { auth: false },
          )
          .catch((err: unknown) =>
            this.options.log.debug({ err }, 'could not remove the public reply'),
          );
      }
      await this.followUp(message, true);
    });
  }

  /** Waits for every edit already started. */
  async settle(): Promise<void> {
    await this.chain;
  }

  private stopProgress(): void {
    this.finished = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
  }

  private expired(): boolean {
    return this.dead || Date.now() - this.target.createdAt > this.options.tokenLifetimeMs;
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const guarded = () => (this.options.active?.() === false ? Promise.resolve() : step());
    const next = this.chain.then(guarded).catch((err: unknown) => {
      this.options.log.error({ err, label: this.target.label }, 'could not deliver a reply');
    });
    this.chain = next;
    return next;
  }

  private async edit(m: OutMessage, isProgress: boolean): Promise<void> {
    if (this.expired()) {
      if (!isProgress) await this.toChannel(m);
      return;
    }
    const route = Routes.webhookMessage(this.target.applicationId, this.target.token, '@original');
    await this.viaToken(
      () =>
        this.options.webhookRest.patch(route, { ...request(m, { components: [] }), auth: false }),
      m,
      isProgress,
    );
  }

  private async followUp(m: OutMessage, ephemeral: boolean): Promise<void> {
    if (this.expired()) return this.toChannel(m);
    const route = Routes.webhook(this.target.applicationId, this.target.token);
    const flags = ephemeral ? { flags: MessageFlags.Ephemeral } : {};
    await this.viaToken(
      () => this.options.webhookRest.post(route, { ...request(m, flags), auth: false }),
      m,
      false,
    );
  }

  /** Runs a webhook call; when the token turns out dead, the message goes to the channel instead. */
  private async viaToken(
    call: () => Promise<unknown>,
    m: OutMessage,
    isProgress: boolean,
  ): Promise<void> {
    try {
      await call();
    } catch (err) {
      if (!isDeadToken(err)) throw err;
      this.dead = true;
      this.options.log.info(
        { label: this.target.label, code: (err as DiscordAPIError).code },
        'interaction token no longer works; answering in the channel',
      );
      if (!isProgress) await this.toChannel(m);
    }
  }

  private async toChannel(m: OutMessage): Promise<void> {
    const { channelId, userId, label } = this.target;
    if (!channelId) {
      this.options.log.warn(
        { label, userId },
        'reply expired and there is no channel to post it in',
      );
      return;
    }
    const intro = `<@${userId}> here is the answer to \`${label.replaceAll('`', "'")}\` (the interaction had expired):`;
    const mention = { allowed_mentions: { users: [userId] } };
    const route = Routes.channelMessages(channelId);
    const joined = m.content ? `${intro}\n${m.content}` : intro;

    if (joined.length <= 2000) {
      await this.options.rest.post(route, request({ ...m, content: joined }, mention));
      return;
    }
    await this.options.rest.post(route, request({ content: intro }, mention));
    await this.options.rest.post(route, request(m, {}));
  }
}

/** The REST request for a message: JSON body (no mass mentions) plus attached files. */
function request(
  m: OutMessage,
  extra: Partial<RESTPostAPIChannelMessageJSONBody> & Record<string, unknown>,
) {
  const files = (m.files ?? []).map((f) => ({ name: f.name, data: f.data }));
  const body = {
    content: m.content ?? '',
    embeds: m.embeds ?? [],
    allowed_mentions: { parse: [] },
    ...(files.length > 0 ? { attachments: files.map((f, id) => ({ id, filename: f.name })) } : {}),
    ...extra,
  };
  return { body, files: files.length > 0 ? files : undefined };
}
