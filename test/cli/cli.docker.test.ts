import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../src/core/redis.js';

const bin = path.resolve('src/bin.mjs');

/** Runs the deckhand command and collects its exit code and output. */
function deckhand(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; out: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out, ms: Date.now() - started }));
  });
}

describe('the deckhand command', () => {
  it('says in one line that REDIS_URL does not answer, instead of retrying forever', async () => {
    const port = await freePort();
    const result = await deckhand(['exec', 'list'], {
      REDIS_URL: `redis://127.0.0.1:${port}`,
      DECKHAND_INSTANCE: 'tcli',
    });
    expect(result.code).toBe(2);
    expect(result.out).toMatch(new RegExp(`cannot reach Redis at 127\\.0\\.0\\.1:${port}`));
    expect(result.out).not.toMatch(/ at .*\.ts:\d+/);
  });

  it('names a bad setting and exits 2', async () => {
    const result = await deckhand(['exec', 'list'], { MAX_REPLICAS: 'many' });
    expect(result.code).toBe(2);
    expect(result.out).toMatch(/MAX_REPLICAS/);
  });
});
