import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import { freePort, portAnswers } from '../../src/core/redis.js';
import { formatDoctor, runDoctor, type DoctorResult } from '../../src/ops/doctor.js';

const bin = path.resolve(import.meta.dirname, '../../src/bin.mjs');
const BOT_ID = '123456789012345678';
const ALERTS = '222222222222222222';
const GOOD_TOKEN = 'good.token.value';

/** A few Discord API routes, answered the way Discord answers them. */
function discordStandIn(): Promise<{ api: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent(req.url ?? '');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bot ${GOOD_TOKEN}`)
      return send(401, { message: '401: Unauthorized', code: 0 });
    if (url === '/api/v10/users/@me')
      return send(200, { id: BOT_ID, username: 'deckhand-test', bot: true });
    if (url === `/api/v10/channels/${ALERTS}`)
      return send(200, { id: ALERTS, name: 'alerts', type: 0 });
    if (url.startsWith('/api/v10/channels/'))
      return send(404, { message: 'Unknown Channel', code: 10003 });
    send(404, { message: '404: Not Found', code: 0 });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        api: `http://127.0.0.1:${port}/api`,
        close: () => new Promise((r) => server.close(() => r())),
      });
    });
  });
}

// The "no REDIS_URL" rows only mean something when no Redis already answers on the default port.
const someoneOn6379 = await portAnswers(6379);

const line = (result: DoctorResult, check: string) => result.lines.find((l) => l.check === check);

describe('deckhand doctor', () => {
  const instance = `t-${randomBytes(4).toString('hex')}`;
  const work = mkdtempSync(path.join(tmpdir(), 'deckhand-doctor-'));
  const noDocker = { DOCKER_HOST: `unix://${path.join(work, 'no-docker.sock')}` };
  let discord: Awaited<ReturnType<typeof discordStandIn>>;
  let redis: Redis;

  beforeAll(async () => {
    discord = await discordStandIn();
    redis = new Redis(inject('redisUrl'));
    await redis.xadd(`deckhand:${instance}:audit`, '*', 'command', 'list');
    writeFileSync(path.join(work, 'script1'), 'echo hi\n');
  });

  afterAll(async () => {
    await redis.del(`deckhand:${instance}:audit`);
    redis.disconnect();
    await discord.close();
    rmSync(work, { recursive: true, force: true });
  });

  const doctor = (vars: Record<string, string>, env: NodeJS.ProcessEnv = noDocker) =>
    runDoctor(loadConfig({ DECKHAND_INSTANCE: instance, MYIMAGES_DIR: work, ...vars }), {
      env,
      cwd: work,
    });

  describe('docker', () => {
    it('names a stopped dockerd when its socket is gone, and skips the image checks', async () => {
      const result = await doctor({ REDIS_URL: inject('redisUrl') });

      expect(line(result, 'docker')).toMatchObject({ status: 'fail' });
      expect(line(result, 'docker')!.text).toContain(
        `cannot reach the engine at ${noDocker.DOCKER_HOST}`,
      );
      expect(line(result, 'docker')!.text).toContain('dockerd is not running');
      expect(line(result, 'base image')!.status).toBe('skip');
      expect(line(result, 'proxy image')!.status).toBe('skip');
      expect(result.ok).toBe(false);
    });

    it('names a refused TCP address as nothing listening there', async () => {
      const env = { DOCKER_HOST: `tcp://127.0.0.1:${await freePort()}` };

      const result = await doctor({ REDIS_URL: inject('redisUrl') }, env);

      expect(line(result, 'docker')!.text).toContain(
        'nothing is listening there; dockerd is stopped',
      );
    });
  });

  describe('redis', () => {
    it('names a missing Redis at REDIS_URL, hiding its password', async () => {
      const url = `redis://:s3cret@127.0.0.1:${await freePort()}`;

      const result = await doctor({ REDIS_URL: url });

      expect(line(result, 'redis')!.status).toBe('fail');
      expect(line(result, 'redis')!.text).toMatch(
        /^cannot reach redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/?: connection refused/,
      );
      expect(formatDoctor(result)).not.toContain('s3cret');
      expect(line(result, 'audit log')!.text).toContain(`Redis stream deckhand:${instance}:audit`);
    });

    it('reports a reachable Redis with its version, and the audit stream with its length and bound', async () => {
      const result = await doctor({ REDIS_URL: inject('redisUrl'), AUDIT_MAX_ENTRIES: '5000' });

      expect(line(result, 'redis')).toMatchObject({ status: 'ok' });
      expect(line(result, 'redis')!.text).toMatch(
        /^reachable at redis:\/\/127\.0\.0\.1:\d+\/? \(Redis \d+\.\d+/,
      );
      expect(line(result, 'audit log')!.text).toBe(
        `Redis stream deckhand:${instance}:audit, 1 entries now, trimmed to about 5000 entries (AUDIT_MAX_ENTRIES)`,
      );
    });

    it.skipIf(someoneOn6379)(
      'without REDIS_URL, says a private redis-server will be started from PATH',
      async () => {
        const bin = mkdtempSync(path.join(work, 'bin-'));
        writeFileSync(path.join(bin, 'redis-server'), '#!/bin/sh\n');
        chmodSync(path.join(bin, 'redis-server'), 0o755);

        const result = await doctor({}, { ...noDocker, PATH: bin });

        expect(line(result, 'redis')).toMatchObject({ status: 'warn' });
        expect(line(result, 'redis')!.text).toContain(
          'redis-server is on PATH so Deckhand will start a private one',
        );
      },
    );

    it.skipIf(someoneOn6379)(
      'without REDIS_URL or redis-server, says how to get Redis',
      async () => {
        const result = await doctor({}, { ...noDocker, PATH: work });

        expect(line(result, 'redis')).toMatchObject({ status: 'fail' });
        expect(line(result, 'redis')!.text).toContain('apt-get install redis-server');
      },
    );
  });

  describe('discord', () => {
    it('says "token rejected" when Discord answers 401', async () => {
      const result = await doctor({
        REDIS_URL: inject('redisUrl'),
        DISCORD_TOKEN: 'stale.token.value',
        DISCORD_API_BASE: discord.api,
        DISCORD_ALERT_CHANNEL_ID: ALERTS,
      });

      expect(line(result, 'discord token')).toMatchObject({ status: 'fail' });
      expect(line(result, 'discord token')!.text).toMatch(/^token rejected \(401\)/);
      expect(line(result, 'alert channel')!.status).toBe('skip');
      expect(formatDoctor(result)).not.toContain('stale.token.value');
    });

    it('names the bot for a good token and finds the alert channel', async () => {
      const result = await doctor({
        REDIS_URL: inject('redisUrl'),
        DISCORD_TOKEN: GOOD_TOKEN,
        DISCORD_API_BASE: discord.api,
        DISCORD_APP_ID: BOT_ID,
        DISCORD_ALERT_CHANNEL_ID: ALERTS,
      });

      expect(line(result, 'discord token')).toEqual({
        check: 'discord token',
        status: 'ok',
        text: `valid: logs in as deckhand-test (${BOT_ID})`,
      });
      expect(line(result, 'alert channel')).toMatchObject({ status: 'ok' });
      expect(line(result, 'alert channel')!.text).toContain('#alerts');
    });

    it('names an alert channel the bot cannot find', async () => {
      const result = await doctor({
        REDIS_URL: inject('redisUrl'),
        DISCORD_TOKEN: GOOD_TOKEN,
        DISCORD_API_BASE: discord.api,
        DISCORD_ALERT_CHANNEL_ID: '333333333333333333',
      });

      expect(line(result, 'alert channel')).toMatchObject({ status: 'fail' });
      expect(line(result, 'alert channel')!.text).toContain(
        'channel 333333333333333333 does not exist',
      );
    });

    it('says the console still works when no token is set', async () => {
      const result = await doctor({ REDIS_URL: inject('redisUrl') });

      expect(line(result, 'discord token')).toMatchObject({ status: 'info' });
    });
  });

  describe('myimages', () => {
    it('counts the files build copy can use', async () => {
      const result = await doctor({ REDIS_URL: inject('redisUrl') });

      expect(line(result, 'myimages')).toMatchObject({ status: 'ok' });
      expect(line(result, 'myimages')!.text).toContain('1 file(s) for build copy (script1)');
    });

    it('names a missing folder', async () => {
      const result = await doctor({ REDIS_URL: inject('redisUrl'), MYIMAGES_DIR: 'no-such-dir' });

      expect(line(result, 'myimages')).toMatchObject({ status: 'fail' });
      expect(line(result, 'myimages')!.text).toBe(
        `${path.join(work, 'no-such-dir')} does not exist; create it (mkdir) and put the files ` +
          '`build copy FILE` should copy there, or set MYIMAGES_DIR',
      );
    });
  });

  it('names a missing Redis, a stopped dockerd and a bad token through `deckhand doctor`', async () => {
    const env = {
      PATH: process.env.PATH,
      ...noDocker,
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
      DISCORD_TOKEN: 'stale.token.value',
      DISCORD_API_BASE: discord.api,
      MYIMAGES_DIR: work,
    };

    const run = await new Promise<{ code: number | null; out: string }>((resolve) => {
      execFile(process.execPath, [bin, 'doctor'], { env }, (err, stdout) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, out: stdout }),
      );
    });

    expect(run.code).toBe(1);
    expect(run.out).toMatch(
      /^\[FAIL\] docker +cannot reach the engine at unix:\/\/.*dockerd is not running/m,
    );
    expect(run.out).toMatch(
      /^\[FAIL\] redis +cannot reach redis:\/\/127\.0\.0\.1:\d+\/?: connection refused/m,
    );
    expect(run.out).toMatch(/^\[FAIL\] discord token +token rejected \(401\)/m);
    expect(run.out).toContain('3 problems to fix before Deckhand can run here.');
  });

  it('prints one line per check and a verdict counting the problems', async () => {
    const result = await doctor({ REDIS_URL: inject('redisUrl') });

    const text = formatDoctor(result);

    expect(text.trimEnd().split('\n')).toHaveLength(result.lines.length + 1);
    expect(text).toMatch(/^\[FAIL\] docker +cannot reach/m);
    expect(text).toMatch(/^\[ ok \] redis +reachable/m);
    expect(text.trimEnd().split('\n').at(-1)).toBe(
      '1 problem to fix before Deckhand can run here.',
    );
  });
});
