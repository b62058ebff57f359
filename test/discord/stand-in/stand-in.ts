import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { guild, member, message, snowflake, textChannel, user } from './payloads.js';

/** One request the bot made, as the stand-in saw it. */
export interface Recorded {
  method: string;
  /** The path after /api/v10, URL-decoded (so `%40original` reads `@original`). */
  path: string;
  body: any;
  files: { name: string; text: string }[];
  status: number;
  at: number;
}

interface InteractionState {
  id: string;
  token: string;
  type: number;
  createdAt: number;
  acked: boolean;
  ackType?: number;
  ackedAt?: number;
  expired: boolean;
  originalId?: string;
  /** For a button press: the message the button sits on. */
  messageId?: string;
  choices?: { name: string; value: string | number }[];
  channelId: string;
}

/** A message as it stands now in the stand-in's memory. */
export interface StoredMessage {
  id: string;
  channelId: string;
  content: string;
  embeds: any[];
  components: any[];
  attachments: { id: string; filename: string; size: number }[];
  files: { name: string; text: string }[];
  flags: number;
  deleted: boolean;
  edits: number;
  /** The interaction token it belongs to, if any. */
  token?: string;
}

export interface CommandOptions {
  name: string;
  /** Subcommand name, for /build. */
  sub?: string;
  options?: Record<string, string | number | boolean>;
  userId?: string;
  roles?: string[];
  /** Member permissions in the channel; defaults to a plain member's. */
  permissions?: bigint;
  channelId?: string;
  /** Make the interaction older than now, e.g. to test what a late answer does. */
  ageMs?: number;
}

const PLAIN_MEMBER = (1n << 31n) | (1n << 11n) | (1n << 10n); // use commands, send and view messages
/** Manage Server, on top of a plain member's permissions. */
export const MANAGER = PLAIN_MEMBER | (1n << 5n);

/**
 * A small Discord: REST routes under an API base, and a gateway the real discord.js client logs in
 * to. It records every request the bot makes, delivers interactions, and can expire interaction
 * tokens or rate-limit channel messages on demand.
 */
export class DiscordStandIn extends EventEmitter {
  readonly token = `stand-in.${Math.random().toString(36).slice(2)}`;
  readonly applicationId = snowflake();
  readonly botUser = user(snowflake(), 'deckhand', true);
  readonly guildId = snowflake();
  readonly channelId = snowflake();
  readonly alertChannelId = snowflake();
  readonly otherChannelId = snowflake();

  readonly requests: Recorded[] = [];
  readonly messages = new Map<string, StoredMessage>();
  /** Commands as registered, by scope ('global' or the guild id). */
  readonly commands = new Map<string, any[]>();
  /** Every 429 the stand-in answered. */
  tooManyRequests = 0;
  /** Callbacks that arrived more than 3 s after their interaction. */
  lateAcknowledgements = 0;

  private readonly interactions = new Map<string, InteractionState>();
  private readonly commandIds = new Map<string, string>();
  private readonly sockets = new Set<WebSocket>();
  private readonly server = http.createServer((req, res) => void this.route(req, res));
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly knownRoles = new Set<string>();
  private readonly refusedChannels = new Set<string>();
  private channelLimit?: { max: number; windowMs: number; sent: number[] };
  private seq = 0;
  private port = 0;

  /** Starts listening on a free loopback port. */
  async start(): Promise<this> {
    this.server.on('upgrade', (req, socket, head) => {
      if (!req.url?.startsWith('/gateway')) return socket.destroy();
      this.wss.handleUpgrade(req, socket, head, (ws) => this.gateway(ws));
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** What DISCORD_API_BASE must be for discord.js to talk to this stand-in. */
  get apiBase(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  // ---- what tests do -------------------------------------------------------------------------

  /** Delivers a slash command; returns its interaction id and token. */
  sendCommand(c: CommandOptions): { id: string; token: string } {
    let options = Object.entries(c.options ?? {}).map(([name, value]) => ({
      name,
      value,
      type: optionType(value),
    }));
    if (c.sub) options = [{ name: c.sub, type: 1, options } as any];
    return this.deliver(2, c, {
      id: this.commandId(c.name),
      name: c.name,
      type: 1,
      options,
      guild_id: this.guildId,
    });
  }

  /** Delivers an autocomplete request with `focused` as the option being typed. */
  sendAutocomplete(c: CommandOptions & { focused: string }): { id: string; token: string } {
    const options = Object.entries(c.options ?? {}).map(([name, value]) => ({
      name,
      value,
      type: optionType(value),
      ...(name === c.focused ? { focused: true, type: 3 } : {}),
    }));
    return this.deliver(4, c, {
      id: this.commandId(c.name),
      name: c.name,
      type: 1,
      options,
      guild_id: this.guildId,
    });
  }

  /** Presses a button on a stored message, as the given user. */
  pressButton(
    messageId: string,
    customId: string,
    c: Omit<CommandOptions, 'name'> = {},
  ): { id: string; token: string } {
    const m = this.messages.get(messageId);
    if (!m) throw new Error(`no message ${messageId}`);
    return this.deliver(
      3,
      { ...c, name: '', channelId: m.channelId },
      { custom_id: customId, component_type: 2 },
      m,
    );
  }

  /** From now on, webhook calls with this interaction token fail as they do after 15 minutes. */
  expireToken(token: string): void {
    const i = this.interactions.get(token);
    if (i) i.expired = true;
  }

  /** Answers 429 when more than `max` channel messages are posted within `windowMs`. */
  limitChannelMessages(max: number, windowMs: number): void {
    this.channelLimit = { max, windowMs, sent: [] };
  }

  /** Answers 403 Missing Access to every message posted in this channel until called with false. */
  refuseChannel(channelId: string, refuse = true): void {
    if (refuse) this.refusedChannels.add(channelId);
    else this.refusedChannels.delete(channelId);
  }

  /** The interaction's original reply, as it stands now. */
  original(token: string): StoredMessage | undefined {
    const id = this.interactions.get(token)?.originalId;
    return id ? this.messages.get(id) : undefined;
  }

  /** Follow-up messages sent with this token, oldest first. */
  followUps(token: string): StoredMessage[] {
    const originalId = this.interactions.get(token)?.originalId;
    return [...this.messages.values()].filter((m) => m.token === token && m.id !== originalId);
  }

  /** Messages posted straight to a channel (not through an interaction), oldest first. */
  channelMessages(channelId: string): StoredMessage[] {
    return [...this.messages.values()].filter((m) => m.channelId === channelId && !m.token);
  }

  /** The acknowledgement (callback) of an interaction, when it came. */
  acknowledgement(id: string): { type: number; at: number; createdAt: number } | undefined {
    const i = [...this.interactions.values()].find((x) => x.id === id);
    return i?.acked
      ? { type: i.ackType ?? 0, at: i.ackedAt ?? 0, createdAt: i.createdAt }
      : undefined;
  }

  /** Autocomplete choices answered for an interaction. */
  choices(id: string): { name: string; value: string | number }[] | undefined {
    return [...this.interactions.values()].find((x) => x.id === id)?.choices;
  }

  /**
   * Resolves when `check` holds, re-checking after every request and every 25 ms (for conditions
   * outside the stand-in, such as a job reaching the worker); rejects after the bound.
   */
  async until<T>(
    check: () => T | undefined | false,
    timeoutMs = 5000,
    what = 'condition',
  ): Promise<T> {
    const now = check();
    if (now) return now;
    return new Promise<T>((resolve, reject) => {
      const onRequest = () => {
        const v = check();
        if (v) {
          cleanup();
          resolve(v);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`stand-in: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const poll = setInterval(onRequest, 25);
      const cleanup = () => {
        clearTimeout(timer);
        clearInterval(poll);
        this.off('request', onRequest);
      };
      this.on('request', onRequest);
    });
  }

  // ---- gateway -------------------------------------------------------------------------------

  private gateway(ws: WebSocket): void {
    this.sockets.add(ws);
    ws.on('close', () => this.sockets.delete(ws));
    ws.send(JSON.stringify({ op: 10, d: { heartbeat_interval: 41_250 }, s: null, t: null }));

    ws.on('message', (raw) => {
      const packet = JSON.parse(String(raw)) as { op: number; d: any };
      if (packet.op === 1) ws.send(JSON.stringify({ op: 11, d: null, s: null, t: null }));
      if (packet.op !== 2) return;
      if (packet.d?.token !== this.token) return ws.close(4004, 'Authentication failed.');

      this.send(ws, 'READY', {
        v: 10,
        user: this.botUser,
        guilds: [{ id: this.guildId, unavailable: true }],
        session_id: `session-${Math.random().toString(36).slice(2)}`,
        resume_gateway_url: `ws://127.0.0.1:${this.port}/gateway`,
        shard: [0, 1],
        application: { id: this.applicationId, flags: 0 },
      });
      const channels = [this.channelId, this.alertChannelId, this.otherChannelId].map((id, n) =>
        textChannel(id, this.guildId, ['ops', 'alerts', 'elsewhere'][n]!),
      );
      this.send(ws, 'GUILD_CREATE', guild(this.guildId, snowflake(), channels));
    });
  }

  private send(ws: WebSocket, t: string, d: unknown): void {
    ws.send(JSON.stringify({ op: 0, t, s: ++this.seq, d }));
  }

  private deliver(
    type: number,
    c: CommandOptions,
    data: unknown,
    onMessage?: StoredMessage,
  ): { id: string; token: string } {
    const createdAt = Date.now() - (c.ageMs ?? 0);
    const id = snowflake(createdAt);
    const token = `itoken.${id}.${Math.random().toString(36).slice(2)}`;
    const channelId = c.channelId ?? this.channelId;
    const userId = c.userId ?? '100000000000000001';
    this.interactions.set(token, {
      id,
      token,
      type,
      createdAt,
      acked: false,
      expired: false,
      messageId: onMessage?.id,
      channelId,
    });

    const payload = {
      id,
      application_id: this.applicationId,
      type,
      token,
      version: 1,
      data,
      guild_id: this.guildId,
      channel_id: channelId,
      channel: textChannel(channelId, this.guildId, 'ops'),
      member: member(
        userId,
        `user${userId.slice(-4)}`,
        c.roles ?? [],
        c.permissions ?? PLAIN_MEMBER,
      ),
      app_permissions: '2147601408',
      locale: 'en-US',
      guild_locale: 'en-US',
      entitlements: [],
      authorizing_integration_owners: { '0': this.guildId },
      context: 0,
      attachment_size_limit: 10 * 1024 * 1024,
      ...(onMessage ? { message: this.view(onMessage) } : {}),
    };
    if (this.sockets.size === 0) throw new Error('stand-in: no gateway connection to deliver to');

    // Discord tells the bot about a role before anyone can hold it; do the same for new ones.
    for (const roleId of (c.roles ?? []).filter((r) => !this.knownRoles.has(r))) {
      this.knownRoles.add(roleId);
      const role = {
        id: roleId,
        name: `role-${roleId.slice(-4)}`,
        permissions: '0',
        position: 1,
        color: 0,
        hoist: false,
        managed: false,
        mentionable: false,
        flags: 0,
      };
      for (const ws of this.sockets)
        this.send(ws, 'GUILD_ROLE_CREATE', { guild_id: this.guildId, role });
    }
    for (const ws of this.sockets) this.send(ws, 'INTERACTION_CREATE', payload);
    return { id, token };
  }

  // ---- REST ----------------------------------------------------------------------------------

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const path = decodeURIComponent(url.pathname.replace(/^\/api\/v\d+/, ''));
    const { body, files } = await readBody(req);
    const rec: Recorded = {
      method: req.method ?? 'GET',
      path,
      body,
      files,
      status: 0,
      at: Date.now(),
    };

    const answer = (status: number, json?: unknown, headers: Record<string, string> = {}) => {
      rec.status = status;
      this.requests.push(rec);
      res.writeHead(
        status,
        json === undefined ? headers : { 'content-type': 'application/json', ...headers },
      );
      res.end(json === undefined ? undefined : JSON.stringify(json));
      this.emit('request', rec);
    };

    try {
      const [status, json, headers] = this.handle(rec, url, req.headers.authorization);
      answer(status, json, headers);
    } catch (err) {
      answer(500, { message: String(err), code: 0 });
    }
  }

  private handle(
    rec: Recorded,
    url: URL,
    auth: string | undefined,
  ): [number, unknown?, Record<string, string>?] {
    const p = rec.path.split('/').filter(Boolean);
    const m = rec.method;
    const botAuth = auth === `Bot ${this.token}`;
    const unauthorized: [number, unknown] = [401, { message: '401: Unauthorized', code: 0 }];

    if (p[0] === 'interactions' && p[3] === 'callback' && m === 'POST')
      return this.callback(p[1]!, p[2]!, rec.body, url);
    if (p[0] === 'webhooks' && p[1] === this.applicationId) return this.webhook(m, p.slice(2), rec);

    if (!botAuth) return unauthorized;
    if (m === 'GET' && rec.path === '/gateway/bot') {
      return [
        200,
        {
          url: `ws://127.0.0.1:${this.port}/gateway`,
          shards: 1,
          session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 },
        },
      ];
    }
    if (m === 'GET' && rec.path === '/oauth2/applications/@me') {
      return [
        200,
        {
          id: this.applicationId,
          name: 'Deckhand',
          bot_public: false,
          bot_require_code_grant: false,
          flags: 0,
          bot: this.botUser,
        },
      ];
    }
    if (m === 'GET' && rec.path === '/users/@me') return [200, this.botUser];
    if (p[0] === 'applications' && p[1] === this.applicationId)
      return this.registration(m, p, rec.body);
    if (p[0] === 'channels' && p[2] === 'messages' && m === 'POST')
      return this.channelPost(p[1]!, rec);
    return [404, { message: '404: Not Found', code: 0 }];
  }

  private registration(method: string, p: string[], body: any): [number, unknown?] {
    const scope = p[2] === 'guilds' ? p[3]! : 'global';
    if (method === 'GET') return [200, this.commands.get(scope) ?? []];
    if (method !== 'PUT' || !Array.isArray(body))
      return [405, { message: 'Method Not Allowed', code: 0 }];
    const saved = body.map((c: any) => ({
      ...c,
      id: this.commandId(c.name),
      application_id: this.applicationId,
      version: '1',
      ...(scope === 'global' ? {} : { guild_id: scope }),
    }));
    this.commands.set(scope, saved);
    return [200, saved];
  }

  private callback(id: string, token: string, body: any, url: URL): [number, unknown?] {
    const i = this.interactions.get(token);
    if (!i || i.id !== id) return [404, { message: 'Unknown interaction', code: 10062 }];
    if (i.acked)
      return [400, { message: 'Interaction has already been acknowledged.', code: 40060 }];
    if (Date.now() - i.createdAt > 3000) {
      this.lateAcknowledgements++;
      return [404, { message: 'Unknown interaction', code: 10062 }];
    }
    i.acked = true;
    i.ackType = body?.type;
    i.ackedAt = Date.now();

    const data = body?.data ?? {};
    let msg: StoredMessage | undefined;
    if (body?.type === 4 || body?.type === 5) {
      msg = this.store(
        i.channelId,
        token,
        { ...data, flags: (data.flags ?? 0) | (body.type === 5 ? 128 : 0) },
        [],
      );
      i.originalId = msg.id;
    } else if (body?.type === 7 && i.messageId) {
      msg = this.messages.get(i.messageId);
      if (msg) this.patch(msg, data, []);
    } else if (body?.type === 8) {
      i.choices = data.choices ?? [];
    }

    if (url.searchParams.get('with_response') !== 'true') return [204];
    return [
      200,
      {
        interaction: { id, type: i.type },
        resource: { type: body.type, ...(msg ? { message: this.view(msg) } : {}) },
      },
    ];
  }

  private webhook(method: string, p: string[], rec: Recorded): [number, unknown?] {
    const i = this.interactions.get(p[0] ?? '');
    if (!i) return [404, { message: 'Unknown Webhook', code: 10015 }];
    if (i.expired) return [401, { message: 'Invalid Webhook Token', code: 50027 }];

    if (p.length === 1 && method === 'POST') {
      if (!i.acked) return [404, { message: 'Unknown Webhook', code: 10015 }];
      return [200, this.view(this.store(i.channelId, i.token, rec.body ?? {}, rec.files))];
    }
    const target = p[2] === '@original' ? i.originalId : p[2];
    const msg = target ? this.messages.get(target) : undefined;
    if (!msg || msg.deleted || msg.token !== i.token)
      return [404, { message: 'Unknown Message', code: 10008 }];
    if (method === 'PATCH') return [200, this.view(this.patch(msg, rec.body ?? {}, rec.files))];
    if (method === 'DELETE') {
      msg.deleted = true;
      return [204];
    }
    if (method === 'GET') return [200, this.view(msg)];
    return [405, { message: 'Method Not Allowed', code: 0 }];
  }

  private channelPost(
    channelId: string,
    rec: Recorded,
  ): [number, unknown?, Record<string, string>?] {
    if (this.refusedChannels.has(channelId))
      return [403, { message: 'Missing Access', code: 50001 }];
    const limit = this.channelLimit;
    if (limit) {
      const now = Date.now();
      limit.sent = limit.sent.filter((t) => now - t < limit.windowMs);
      if (limit.sent.length >= limit.max) {
        this.tooManyRequests++;
        const retry = (limit.windowMs - (now - limit.sent[0]!)) / 1000;
        return [
          429,
          { message: 'You are being rate limited.', retry_after: retry, global: false },
          { 'retry-after': String(Math.ceil(retry)), 'x-ratelimit-scope': 'user' },
        ];
      }
      limit.sent.push(now);
    }
    return [200, this.view(this.store(channelId, undefined, rec.body ?? {}, rec.files))];
  }

  // ---- messages ------------------------------------------------------------------------------

  private store(
    channelId: string,
    token: string | undefined,
    data: any,
    files: Recorded['files'],
  ): StoredMessage {
    const msg: StoredMessage = {
      id: snowflake(),
      channelId,
      content: '',
      embeds: [],
      components: [],
      attachments: [],
      files: [],
      flags: 0,
      deleted: false,
      edits: -1,
      token,
    };
    this.messages.set(msg.id, msg);
    return this.patch(msg, data, files);
  }

  private patch(msg: StoredMessage, data: any, files: Recorded['files']): StoredMessage {
    if (data.content !== undefined && data.content !== null) msg.content = data.content;
    if (data.embeds) msg.embeds = data.embeds;
    if (data.components) msg.components = data.components;
    if (data.flags !== undefined) msg.flags = data.flags;
    if (files.length > 0 || data.attachments) {
      msg.files = files;
      msg.attachments = files.map((f) => ({
        id: snowflake(),
        filename: f.name,
        size: f.text.length,
      }));
    }
    msg.edits++;
    return msg;
  }

  private view(msg: StoredMessage) {
    return message({
      id: msg.id,
      channelId: msg.channelId,
      guildId: this.guildId,
      author: this.botUser,
      content: msg.content,
      embeds: msg.embeds,
      components: msg.components,
      attachments: msg.attachments,
      flags: msg.flags,
      edited: msg.edits > 0,
    });
  }

  private commandId(name: string): string {
    let id = this.commandIds.get(name);
    if (!id) this.commandIds.set(name, (id = snowflake()));
    return id;
  }
}

function optionType(value: string | number | boolean): number {
  if (typeof value === 'boolean') return 5;
  if (typeof value === 'number') return Number.isInteger(value) ? 4 : 10;
  return 3;
}

/** Reads a JSON or multipart body; multipart's payload_json becomes the body, the rest are files. */
async function readBody(
  req: http.IncomingMessage,
): Promise<{ body: any; files: Recorded['files'] }> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  const type = req.headers['content-type'] ?? '';
  if (raw.length === 0) return { body: undefined, files: [] };
  if (type.startsWith('application/json')) return { body: JSON.parse(raw.toString()), files: [] };
  if (!type.startsWith('multipart/form-data')) return { body: raw.toString(), files: [] };

  const form = await new Response(raw, { headers: { 'content-type': type } }).formData();
  let body: any;
  const files: Recorded['files'] = [];
  for (const [key, value] of form.entries()) {
    if (key === 'payload_json') body = JSON.parse(String(value));
    else if (typeof value !== 'string') files.push({ name: value.name, text: await value.text() });
  }
  return { body, files };
}
