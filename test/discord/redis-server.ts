import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, portAnswers } from '../../src/core/redis.js';

/** A redis-server of this test file's own, which it may slow down (DEBUG SLEEP), stop and restart. */
export interface OwnRedis {
  url: string;
  port: number;
  /** Stops the server (SIGKILL, so nothing is saved) and waits until it is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
  /** Kills it and removes its directory. */
  dispose(): Promise<void>;
}

/** Starts a private redis-server on a free port that allows DEBUG from loopback. */
export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'deckhand-discord-redis-'));
  let child: ChildProcess | undefined;

  const launch = async () => {
    child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--enable-debug-command',
        'local',
      ],
      { stdio: 'ignore' },
    );
    for (let i = 0; i < 100 && !(await portAnswers(port)); i++)
      await new Promise((r) => setTimeout(r, 50));
  };
  const kill = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await gone;
  };

  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    restart: launch,
    async dispose() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
