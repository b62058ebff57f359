import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';

/** A redis-server this process started for itself, and how to stop it. */
export interface PrivateRedis {
  url: string;
  port: number;
  /** Stops it with SIGTERM and removes its directory. */
  stop(): Promise<void>;
  /** Kills it with SIGKILL, as a crash would, and removes its directory. */
  kill(): Promise<void>;
}

/** Where and how to start a private redis-server. */
export interface PrivateRedisOptions {
  /** A fixed port, to start a server again where clients expect it; a free one otherwise. */
  port?: number;
  /** More redis-server arguments, such as `--enable-debug-command local` for tests. */
  extraArgs?: string[];
}

/** Resolves true when something accepts TCP connections on host:port within the timeout. */
export function portAnswers(port: number, host = '127.0.0.1', timeoutMs = 300): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Asks the kernel for a TCP port that is free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Thrown when the configured Redis does not answer; the message names where Deckhand looked. */
export class RedisUnreachableError extends Error {
  override readonly name = 'RedisUnreachableError';
}

/** Pings Redis once, bounded, so a wrong REDIS_URL is one clear error instead of endless retries. */
export async function checkRedis(
  redis: { ping(): Promise<unknown> },
  url: string,
  timeoutMs = 5000,
): Promise<void> {
  const where = new URL(url);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([redis.ping(), timeout]);
  } catch (err) {
    throw new RedisUnreachableError(
      `cannot reach Redis at ${where.hostname}:${where.port || 6379}: ${(err as Error).message}; ` +
        'check REDIS_URL, or unset it to let Deckhand find or start one',
    );
  } finally {
    clearTimeout(timer);
  }
}

/** Thrown when no Redis is configured, none answers locally, and redis-server is not installed. */
export class RedisMissingError extends Error {
  override readonly name = 'RedisMissingError';
}

/** Starts redis-server from PATH on a loopback port, without persistence, for this run only. */
export async function startPrivateRedis(
  log?: Logger,
  options: PrivateRedisOptions = {},
): Promise<PrivateRedis> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(path.join(tmpdir(), 'deckhand-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const child: ChildProcess = spawn(
    'redis-server',
    [...args, '--dir', dir, ...(options.extraArgs ?? [])],
    {
      stdio: 'ignore',
    },
  );
  const spawned = await new Promise<boolean>((resolve) => {
    child.once('error', () => resolve(false));
    child.once('spawn', () => resolve(true));
  });
  if (!spawned) {
    rmSync(dir, { recursive: true, force: true });
    throw new RedisMissingError(
      'No Redis: REDIS_URL is not set, nothing answers on 127.0.0.1:6379, and redis-server is not on PATH. ' +
        'Install it (Debian/Ubuntu: apt-get install redis-server) or set REDIS_URL=redis://host:6379.',
    );
  }
  for (let i = 0; i < 100 && !(await portAnswers(port)); i++)
    await new Promise((r) => setTimeout(r, 50));
  log?.info({ redisPort: port }, 'started a private redis-server for this run (no persistence)');

  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
  };
}

/** Picks Redis: REDIS_URL, else a local server on 6379, else a private redis-server. */
export async function resolveRedis(
  configured: string | undefined,
  log: Logger,
): Promise<{ url: string; stop?: () => Promise<void> }> {
  if (configured) return { url: configured };
  if (await portAnswers(6379)) return { url: 'redis://127.0.0.1:6379' };
  // On the default port, so a console and the exec commands run beside it share one state.
  const started = await startPrivateRedis(undefined, { port: 6379 }).catch(() =>
    startPrivateRedis(),
  );
  const notice =
    `no REDIS_URL and nothing on 127.0.0.1:6379: started a private redis-server on port ${started.port}, ` +
    'without persistence, that stops with this process; other Deckhand processes started meanwhile share it. ' +
    'For state that outlives it, run redis-server or set REDIS_URL';
  log.warn({ redisPort: started.port }, notice);
  // A console hides warnings from its log; this one the person at it should still read.
  if (!log.isLevelEnabled('warn')) process.stderr.write(`deckhand: ${notice}\n`);
  return { url: started.url, stop: started.stop };
}

/** ioredis options for a URL, with the settings BullMQ workers require. */
export function redisOptions(url: string): {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  maxRetriesPerRequest: null;
} {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.pathname.length > 1 ? { db: Number(u.pathname.slice(1)) } : {}),
    maxRetriesPerRequest: null,
  };
}
