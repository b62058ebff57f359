import { Redis } from 'ioredis';
import { startPrivateRedis, type PrivateRedis } from '../../src/core/redis.js';

/** A redis-server of one test file's own, which it may slow down, kill, shut down and restart. */
export interface OwnRedis {
  url: string;
  port: number;
  /** SIGKILL, so nothing is saved; waits until the process is gone. */
  kill(): Promise<void>;
  /** SHUTDOWN NOSAVE, as an operator would; waits until the process is gone. */
  shutdownNoSave(): Promise<void>;
  /** Starts it again, empty, on the same port. */
  restart(): Promise<void>;
  /** Stops it for good. */
  dispose(): Promise<void>;
}

const EXTRA = ['--enable-debug-command', 'local'];

/** Starts a private redis-server on a free port that allows DEBUG (for DEBUG SLEEP) from loopback. */
export async function startOwnRedis(): Promise<OwnRedis> {
  let server: PrivateRedis = await startPrivateRedis(undefined, { extraArgs: EXTRA });
  const { url, port } = server;
  return {
    url,
    port,
    kill: () => server.kill(),
    async shutdownNoSave() {
      const admin = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
      admin.on('error', () => undefined);
      await admin.connect();
      await admin.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
      admin.disconnect();
      await server.stop();
    },
    async restart() {
      server = await startPrivateRedis(undefined, { port, extraArgs: EXTRA });
    },
    dispose: () => server.stop(),
  };
}
