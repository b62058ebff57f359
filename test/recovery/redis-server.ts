import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort, portAnswers } from '../../src/core/redis.js';

/** A redis-server of this test's own, without persistence, that the test may restart empty. */
export interface OwnRedis {
  url: string;
  /** SHUTDOWN NOSAVE, as an operator or a crash would, then wait for the process to end. */
  shutdownNoSave(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts redis-server from PATH on a free loopback port. */
export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'deckhand-test-redis-'));
  let child: ChildProcess | undefined;
  const url = `redis://127.0.0.1:${port}`;

  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !(await portAnswers(port)); i++) await new Promise((r) => setTimeout(r, 50));
  };
  const exited = () => new Promise<void>((r) => (child && child.exitCode === null ? child.once('exit', () => r()) : r()));
  await start();
  return {
    url,
    start,
    async shutdownNoSave() {
      const admin = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
      admin.on('error', () => undefined);
      await admin.connect();
      const gone = exited();
      await admin.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
      admin.disconnect();
      await gone;
    },
    async stop() {
      const gone = exited();
      child?.kill('SIGTERM');
      await gone;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
