import { once } from 'node:events';
import { Client, Events, GatewayIntentBits, REST, Routes } from 'discord.js';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ConfigError, type Config } from '../core/config.js';
import type { CommandQueue } from '../jobs/queue.js';
import { startAlertDelivery } from './alert-delivery.js';
import { AuditLog } from './audit.js';
import { AutocompleteCache, deckhandSource, type AutocompleteSource } from './autocomplete.js';
import { Confirmations } from './confirm.js';
import { InteractionHandler, type Pacing } from './interactions.js';
import { PendingReplies } from './pending-replies.js';
import { UserRateLimit } from './rate-limit.js';
import type { OutMessage } from './render.js';

export interface BotOptions {
  config: Config;
  queue: CommandQueue;
  /** Deckhand's Redis connection, for the audit log; alert delivery takes a duplicate of it. */
  redis: Redis;
  log: Logger;
  /** Names for autocompletion; by default the engine's service records, MYIMAGES_DIR, and results seen. */
  autocomplete?: AutocompleteSource;
  /** How long a confirmation button stays valid. */
  confirmTtlMs?: number;
  pacing?: Partial<Pacing>;
  /** Alert grouping and pacing; tests shorten them. */
  alerts?: { groupWindowMs?: number; minIntervalMs?: number; maxPerMessage?: number };
  readyTimeoutMs?: number;
}

/** The running bot: its discord.js client, and how to stop it. */
export interface Bot {
  client: Client;
  stop(): Promise<void>;
}

const defaultPacing: Pacing = {
  minEditMs: 1500,
  tokenLifetimeMs: 14 * 60_000,
  submitTimeoutMs: 15_000,
  slowNoticeMs: 2500,
};

/**
 * Logs in to Discord and answers slash commands by putting them on the command queue; posts alerts
 * to DISCORD_ALERT_CHANNEL_ID when set. Resolves once the gateway reports ready.
 */
export async function startBot(o: BotOptions): Promise<Bot> {
  const { config, queue, redis } = o;
  if (!config.DISCORD_TOKEN) throw new ConfigError('DISCORD_TOKEN: required to run the bot');
  const log = o.log;

  const client = new Client({
    intents: [GatewayIntentBits.Guilds],
    rest: config.DISCORD_API_BASE ? { api: config.DISCORD_API_BASE } : {},
    allowedMentions: { parse: [] },
  });
  client.rest.on('response', (req, res) => {
    if (res.status === 429)
      log.warn({ route: req.route, method: req.method }, 'Discord answered 429 (rate limited)');
  });
  client.on(Events.Error, (err) => log.error({ err }, 'discord client error'));
  client.on(Events.ShardDisconnect, (_e, shard) =>
    log.warn({ shard }, 'gateway disconnected for good'),
  );

  // Edits and follow-ups through an interaction token are outside Discord's global limit of 50
  // requests a second, so they get a client of their own; per-route limits still apply to it.
  const api = config.DISCORD_API_BASE ? { api: config.DISCORD_API_BASE } : {};
  const webhookRest = new REST({ ...api, globalRequestsPerSecond: 500 });
  webhookRest.on('response', (req, res) => {
    if (res.status === 429)
      log.warn({ route: req.route, method: req.method }, 'Discord answered 429 (rate limited)');
  });

  const cache = new AutocompleteCache(
    o.autocomplete ?? deckhandSource(redis, queue.prefix, config.MYIMAGES_DIR),
    log,
  );
  const confirmations = new Confirmations(o.confirmTtlMs ?? 60_000, log);
  const handler = new InteractionHandler({
    config,
    queue,
    audit: new AuditLog(redis, queue.prefix, config.AUDIT_MAX_ENTRIES, log),
    cache,
    confirmations,
    rateLimit: new UserRateLimit(config.COMMANDS_PER_MINUTE),
    rest: client.rest,
    webhookRest,
    pending: new PendingReplies(redis, queue.prefix, log),
    log,
    pacing: { ...defaultPacing, ...o.pacing },
  });
  client.on(Events.InteractionCreate, (i) => handler.handle(i));

  const ready = once(client, Events.ClientReady, {
    signal: AbortSignal.timeout(o.readyTimeoutMs ?? 60_000),
  });
  try {
    await client.login(config.DISCORD_TOKEN);
    await ready;
  } catch (err) {
    await client.destroy();
    throw err;
  }
  log.info({ user: client.user?.tag, guilds: client.guilds.cache.size }, 'discord bot ready');
  cache.start();
  void handler
    .resume()
    .catch((err: unknown) =>
      log.warn({ err }, 'could not read the replies owed from before a restart'),
    );

  const channel = config.DISCORD_ALERT_CHANNEL_ID;
  const alerts = channel
    ? startAlertDelivery({
        redis: redis.duplicate(),
        prefix: queue.prefix,
        log,
        ...o.alerts,
        post: (m) => postToChannel(client, channel, m),
      })
    : undefined;
  if (!channel)
    log.warn(
      'DISCORD_ALERT_CHANNEL_ID is not set: alerts stay in Redis until a channel is configured',
    );

  return {
    client,
    async stop() {
      confirmations.close();
      cache.stop();
      await alerts?.stop();
      // Answers about to be sent get a moment; those still waiting on a job are left to the next run.
      await handler.drain(1000);
      handler.close();
      await client.destroy();
      webhookRest.clearHashSweeper();
      webhookRest.clearHandlerSweeper();
    },
  };
}

async function postToChannel(client: Client, channelId: string, m: OutMessage): Promise<void> {
  const files = (m.files ?? []).map((f) => ({ name: f.name, data: f.data }));
  await client.rest.post(Routes.channelMessages(channelId), {
    body: { content: m.content ?? '', embeds: m.embeds ?? [], allowed_mentions: { parse: [] } },
    files: files.length > 0 ? files : undefined,
  });
}
