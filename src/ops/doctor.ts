import { constants } from 'node:fs';
import { access, readdir } from 'node:fs/promises';
import path from 'node:path';
import { DiscordAPIError, REST, Routes } from 'discord.js';
import Dockerode from 'dockerode';
import { Redis } from 'ioredis';
import type { Config } from '../core/config.js';
import { dockerStatus } from '../core/errors.js';
import { portAnswers, redisOptions } from '../core/redis.js';

/** How one finding stands: `fail` means Deckhand cannot work until it is fixed. */
export type DoctorStatus = 'ok' | 'info' | 'warn' | 'fail' | 'skip';

/** One finding of `deckhand doctor`: what was checked, how it stands, and in words what to do. */
export interface DoctorLine {
  check: string;
  status: DoctorStatus;
  text: string;
}

/** What the doctor found; `ok` is false when any line failed. */
export interface DoctorResult {
  lines: DoctorLine[];
  ok: boolean;
}

/** Where the doctor looks; defaults are this process's environment and working directory. */
export interface DoctorDeps {
  env?: NodeJS.ProcessEnv;
  docker?: Dockerode;
  cwd?: string;
  timeoutMs?: number;
}

/** Checks, one line each, what a new install usually gets wrong, and says how to fix it. */
export async function runDoctor(config: Config, deps: DoctorDeps = {}): Promise<DoctorResult> {
  const env = deps.env ?? process.env;
  const timeoutMs = deps.timeoutMs ?? 5000;
  const docker = deps.docker ?? dockerFromEnv(env, timeoutMs);
  const lines: DoctorLine[] = [];

  const engine = await checkDocker(docker, env);
  lines.push(engine);
  lines.push(
    await checkImage(docker, engine.status === 'ok', 'base image', config.BASE_IMAGE, config),
  );
  lines.push(
    await checkImage(docker, engine.status === 'ok', 'proxy image', config.PROXY_IMAGE, config),
  );

  const redis = await checkRedis(config, env, timeoutMs);
  lines.push(redis.line);
  lines.push(await checkAudit(config, redis.client));
  redis.client?.disconnect();

  const discord = await checkDiscord(config, timeoutMs);
  lines.push(...discord);
  lines.push(await checkMyImages(config, deps.cwd ?? process.cwd()));

  return { lines, ok: lines.every((l) => l.status !== 'fail') };
}

/** Renders the doctor's findings as aligned lines a person reads top to bottom. */
export function formatDoctor(result: DoctorResult): string {
  const width = Math.max(...result.lines.map((l) => l.check.length));
  const tag: Record<DoctorStatus, string> = {
    ok: ' ok ',
    info: 'info',
    warn: 'warn',
    fail: 'FAIL',
    skip: 'skip',
  };
  const body = result.lines.map((l) => `[${tag[l.status]}] ${l.check.padEnd(width)}  ${l.text}`);
  const failed = result.lines.filter((l) => l.status === 'fail').length;
  const verdict = result.ok
    ? 'Deckhand can run here.'
    : `${failed} problem${failed === 1 ? '' : 's'} to fix before Deckhand can run here.`;
  return `${body.join('\n')}\n${verdict}\n`;
}

/** The engine address as a person would write it in DOCKER_HOST. */
function dockerAddress(env: NodeJS.ProcessEnv): string {
  return env.DOCKER_HOST || 'unix:///var/run/docker.sock';
}

function dockerFromEnv(env: NodeJS.ProcessEnv, timeout: number): Dockerode {
  const address = dockerAddress(env);
  if (address.startsWith('unix://'))
    return new Dockerode({ socketPath: address.slice('unix://'.length), timeout });

  const url = new URL(address);
  if (url.protocol === 'tcp:' && !env.DOCKER_TLS_VERIFY) {
    return new Dockerode({
      host: url.hostname,
      port: Number(url.port || 2375),
      protocol: 'http',
      timeout,
    });
  }

  // TLS and ssh:// need docker-modem's own reading of the environment (certificates, keys).
  return new Dockerode({ timeout });
}

async function checkDocker(docker: Dockerode, env: NodeJS.ProcessEnv): Promise<DoctorLine> {
  const where = dockerAddress(env);
  try {
    const v = await docker.version();
    return {
      check: 'docker',
      status: 'ok',
      text: `engine ${v.Version} (API ${v.ApiVersion}, ${v.Os}/${v.Arch}) at ${where}`,
    };
  } catch (err) {
    return {
      check: 'docker',
      status: 'fail',
      text: `cannot reach the engine at ${where}: ${dockerHint(err, where)}`,
    };
  }
}

function dockerHint(err: unknown, where: string): string {
  const code = (err as { code?: unknown }).code;
  const socket = where.startsWith('unix://') ? where.slice('unix://'.length) : undefined;
  switch (code) {
    case 'ENOENT':
      return (
        `no socket at ${socket ?? where}; dockerd is not running (start it: systemctl start ` +
        'docker) or DOCKER_HOST points at the wrong place'
      );
    case 'EACCES':
      return (
        `permission denied on ${socket ?? where}; add this user to the socket's group ` +
        '(usermod -aG docker USER, then log in again), or in compose set DOCKER_GID to ' +
        `the socket's gid (stat -c %g ${socket ?? '/var/run/docker.sock'})`
      );
    case 'ECONNREFUSED':
      return (
        'nothing is listening there; dockerd is stopped, or DOCKER_HOST names the wrong host ' +
        'or port'
      );
    case 'ETIMEDOUT':
    case 'ESOCKETTIMEDOUT':
      return 'no answer in time; dockerd may be hung, or a firewall drops the connection';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}

async function checkImage(
  docker: Dockerode,
  engineUp: boolean,
  check: string,
  ref: string,
  config: Config,
): Promise<DoctorLine> {
  if (!engineUp)
    return { check, status: 'skip', text: `${ref}: not checked, the engine is unreachable` };

  try {
    const image = await docker.getImage(ref).inspect();
    const mb = Math.round(image.Size / 1_000_000);
    return { check, status: 'ok', text: `${ref} is present (${image.Id.slice(7, 19)}, ${mb} MB)` };
  } catch (err) {
    if (dockerStatus(err) !== 404) {
      return {
        check,
        status: 'fail',
        text: `${ref}: the engine could not inspect it: ${(err as Error).message}`,
      };
    }
  }

  if (check === 'proxy image') {
    return {
      check,
      status: 'info',
      text: `${ref} is missing: will be built from BASE_IMAGE (${config.BASE_IMAGE}) on first use`,
    };
  }
  return {
    check,
    status: 'warn',
    text:
      `${ref} is not on this engine: the first build pulls it, which needs a registry; ` +
      `without one, load it (docker load / docker import) or set BASE_IMAGE to an image you have`,
  };
}

/** The Redis URL with its password hidden, fit for a message or a log line. */
function shownUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

async function checkRedis(
  config: Config,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<{ line: DoctorLine; client?: Redis }> {
  if (config.REDIS_URL) {
    const where = shownUrl(config.REDIS_URL);
    const fix = 'start Redis there or correct REDIS_URL';
    return pingRedis(
      config.REDIS_URL,
      timeoutMs,
      (v) => `reachable at ${where} (Redis ${v})`,
      (why) => `cannot reach ${where}: ${why}; ${fix}`,
    );
  }

  if (await portAnswers(6379, '127.0.0.1', timeoutMs)) {
    const url = 'redis://127.0.0.1:6379';
    return pingRedis(
      url,
      timeoutMs,
      (v) => `REDIS_URL is not set; using the Redis ${v} that answers on 127.0.0.1:6379`,
      (why) =>
        `something answers on 127.0.0.1:6379 but it is not a usable Redis: ${why}; set REDIS_URL`,
    );
  }

  if (await onPath('redis-server', env)) {
    return {
      line: {
        check: 'redis',
        status: 'warn',
        text:
          'REDIS_URL is not set and nothing answers on 127.0.0.1:6379; redis-server is on PATH ' +
          'so Deckhand will start a private one for each run (nothing kept between runs); ' +
          'set REDIS_URL for a lasting install',
      },
    };
  }

  return {
    line: {
      check: 'redis',
      status: 'fail',
      text:
        'no Redis: REDIS_URL is not set, nothing answers on 127.0.0.1:6379 and redis-server ' +
        'is not on PATH; ' +
        'install it (apt-get install redis-server) or set REDIS_URL=redis://host:6379',
    },
  };
}

async function pingRedis(
  url: string,
  timeoutMs: number,
  good: (version: string) => string,
  bad: (why: string) => string,
): Promise<{ line: DoctorLine; client?: Redis }> {
  const client = new Redis({
    ...redisOptions(url),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // connect() only says "Connection is closed"; the reason arrives on the error event.
  let cause: unknown;
  client.on('error', (err) => (cause = err));

  try {
    await client.connect();
    const info = await client.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown version';
    return { line: { check: 'redis', status: 'ok', text: good(version) }, client };
  } catch (err) {
    client.disconnect();
    return { line: { check: 'redis', status: 'fail', text: bad(redisHint(cause ?? err)) } };
  }
}

function redisHint(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'ECONNREFUSED') return 'connection refused (nothing listens on that port)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host name not found';
  if (/NOAUTH|WRONGPASS|invalid password/i.test(message)) return 'the password was rejected';
  return message;
}

async function checkAudit(config: Config, redis: Redis | undefined): Promise<DoctorLine> {
  const key = `deckhand:${config.DECKHAND_INSTANCE}:audit`;
  const bound = `trimmed to about ${config.AUDIT_MAX_ENTRIES} entries (AUDIT_MAX_ENTRIES)`;
  if (!redis) return { check: 'audit log', status: 'info', text: `Redis stream ${key}, ${bound}` };

  try {
    const length = await redis.xlen(key);
    return {
      check: 'audit log',
      status: 'info',
      text: `Redis stream ${key}, ${length} entries now, ${bound}`,
    };
  } catch (err) {
    return {
      check: 'audit log',
      status: 'warn',
      text: `Redis stream ${key} cannot be read: ${(err as Error).message}`,
    };
  }
}

async function checkDiscord(config: Config, timeoutMs: number): Promise<DoctorLine[]> {
  if (!config.DISCORD_TOKEN) {
    return [
      {
        check: 'discord token',
        status: 'info',
        text: 'DISCORD_TOKEN is not set: no bot, the console and `deckhand exec` still work',
      },
      { check: 'alert channel', status: 'skip', text: 'not checked without DISCORD_TOKEN' },
    ];
  }

  const rest = new REST({
    version: '10',
    ...(config.DISCORD_API_BASE ? { api: config.DISCORD_API_BASE } : {}),
    retries: 0,
    timeout: timeoutMs,
    hashSweepInterval: 0,
    handlerSweepInterval: 0,
  }).setToken(config.DISCORD_TOKEN);
  const api = config.DISCORD_API_BASE ?? 'the Discord API';

  let bot: { id: string; username: string };
  try {
    bot = (await rest.get(Routes.user())) as { id: string; username: string };
  } catch (err) {
    const text =
      err instanceof DiscordAPIError && err.status === 401
        ? 'token rejected (401): copy a fresh token from the Developer Portal ' +
          '(Bot > Reset Token) into DISCORD_TOKEN'
        : `could not ask ${api} whether the token is valid: ${discordHint(err)}`;
    return [
      { check: 'discord token', status: 'fail', text },
      { check: 'alert channel', status: 'skip', text: 'not checked without a working token' },
    ];
  }

  const appNote =
    config.DISCORD_APP_ID && config.DISCORD_APP_ID !== bot.id
      ? `; note DISCORD_APP_ID ${config.DISCORD_APP_ID} differs from the bot's id ${bot.id}`
      : '';
  const token: DoctorLine = {
    check: 'discord token',
    status: appNote ? 'warn' : 'ok',
    text: `valid: logs in as ${bot.username} (${bot.id})${appNote}`,
  };
  return [token, await checkAlertChannel(rest, config.DISCORD_ALERT_CHANNEL_ID)];
}

async function checkAlertChannel(rest: REST, channelId: string | undefined): Promise<DoctorLine> {
  const check = 'alert channel';
  if (!channelId) {
    return {
      check,
      status: 'info',
      text: 'DISCORD_ALERT_CHANNEL_ID is not set: recovery alerts go to the log only',
    };
  }

  try {
    const channel = (await rest.get(Routes.channel(channelId))) as { name?: string };
    return {
      check,
      status: 'ok',
      text: `channel ${channelId} (#${channel.name ?? '?'}) is visible to the bot`,
    };
  } catch (err) {
    if (err instanceof DiscordAPIError && err.status === 404) {
      return {
        check,
        status: 'fail',
        text:
          `channel ${channelId} does not exist or the bot is not in its server; ` +
          'check DISCORD_ALERT_CHANNEL_ID',
      };
    }
    if (err instanceof DiscordAPIError && err.status === 403) {
      return {
        check,
        status: 'fail',
        text:
          `the bot may not see channel ${channelId}; ` +
          'give its role View Channel and Send Messages there',
      };
    }
    return {
      check,
      status: 'fail',
      text: `could not look up channel ${channelId}: ${discordHint(err)}`,
    };
  }
}

function discordHint(err: unknown): string {
  if (err instanceof DiscordAPIError) return `HTTP ${err.status}: ${err.message}`;
  const cause = (err as { cause?: { code?: unknown } }).cause;
  if (typeof cause?.code === 'string')
    return `${cause.code} (is the network or DISCORD_API_BASE right?)`;
  return err instanceof Error ? err.message : String(err);
}

async function checkMyImages(config: Config, cwd: string): Promise<DoctorLine> {
  const dir = path.resolve(cwd, config.MYIMAGES_DIR);
  try {
    await access(dir, constants.R_OK | constants.X_OK);
    const files = (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => e.name);
    const shown = files.slice(0, 5).join(', ') + (files.length > 5 ? ', …' : '');
    return {
      check: 'myimages',
      status: 'ok',
      text: `${dir} is readable: ${files.length} file(s) for build copy${shown ? ` (${shown})` : ''}`,
    };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const why =
      code === 'ENOENT'
        ? 'does not exist; create it (mkdir) and put the files `build copy FILE` should copy ' +
          'there, or set MYIMAGES_DIR'
        : code === 'EACCES'
          ? 'is not readable by this user; fix its permissions (compose mounts it read-only ' +
            'into the worker)'
          : code === 'ENOTDIR'
            ? 'is a file, not a folder; point MYIMAGES_DIR at a folder'
            : (err as Error).message;
    return { check: 'myimages', status: 'fail', text: `${dir} ${why}` };
  }
}

async function onPath(program: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    try {
      await access(path.join(dir, program), constants.X_OK);
      return true;
    } catch {
      // not in this folder; try the next
    }
  }
  return false;
}
