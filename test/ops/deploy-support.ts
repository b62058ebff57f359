import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Dockerode from 'dockerode';
import { removeInstance as removeLabelled } from '../support/engine.js';

const run = promisify(execFile);
const docker = new Dockerode();

/** The repository root, where the Dockerfile and docker-compose.yml live. */
export const repoRoot = path.resolve(import.meta.dirname, '../..');

/** Runs a program and returns its stdout; a failure carries the program's stderr in its message. */
export async function sh(
  file: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  try {
    const { stdout } = await run(file, args, { ...options, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const { stderr, stdout } = err as { stderr?: string; stdout?: string };
    throw new Error(
      `${file} ${args.join(' ')} failed:\n${stderr || stdout || (err as Error).message}`,
    );
  }
}

/** True when the local engine has the image. */
export async function imageExists(ref: string): Promise<boolean> {
  try {
    await docker.getImage(ref).inspect();
    return true;
  } catch {
    return false;
  }
}

/** How to call compose here: the v2 plugin when installed, else Debian 12's docker-compose (v1). */
export async function composeCli(): Promise<string[]> {
  try {
    await sh('docker', ['compose', 'version']);
    return ['docker', 'compose'];
  } catch {
    // no v2 plugin; try v1 below
  }
  try {
    await sh('docker-compose', ['version']);
    return ['docker-compose'];
  } catch {
    throw new Error(
      'neither `docker compose` nor `docker-compose` is installed (Debian 12: apt-get install docker-compose)',
    );
  }
}

/** The Node base image for the Dockerfile: the registry's when present, else one made from the host's Node. */
export async function nodeBaseImage(): Promise<string> {
  if (await imageExists('node:20-bookworm-slim')) return 'node:20-bookworm-slim';
  if (!(await imageExists('deckhand-node:20'))) {
    await sh('sh', [path.join(repoRoot, 'src/ops/node-base-image.sh'), 'deckhand-node:20']);
  }
  return 'deckhand-node:20';
}

/** A Redis image for compose: redis:7-alpine when present, else one made from Debian's redis-server. */
export async function redisImage(): Promise<string> {
  if (await imageExists('redis:7-alpine')) return 'redis:7-alpine';
  const tag = 'deckhand-test-redis:7';
  if (await imageExists(tag)) return tag;

  // Like the official image: data in /data, run as redis, and no protected mode, because the
  // server is reached only over the compose network and publishes no port.
  const context = mkdtempSync(path.join(tmpdir(), 'deckhand-redis-image-'));
  writeFileSync(
    path.join(context, 'Dockerfile'),
    [
      'FROM debian:bookworm-slim',
      'RUN apt-get update && apt-get install -y --no-install-recommends redis-server \\',
      ' && rm -rf /var/lib/apt/lists/* && mkdir -p /data && chown redis:redis /data',
      'RUN printf \'#!/bin/sh\\nexec /usr/bin/redis-server "$@" --protected-mode no\\n\' \\',
      '    > /usr/local/bin/redis-server && chmod 755 /usr/local/bin/redis-server',
      'WORKDIR /data',
      'USER redis',
      'CMD ["redis-server"]',
      '',
    ].join('\n'),
  );
  try {
    await sh('docker', ['build', '--quiet', '--tag', tag, context]);
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
  return tag;
}

/** The first IP address of a running container, on the network the test's compose project made. */
export async function containerIp(id: string): Promise<string> {
  const info = await docker.getContainer(id).inspect();
  const ip = Object.values(info.NetworkSettings.Networks).find((n) => n.IPAddress)?.IPAddress;
  if (!ip) throw new Error(`container ${id} has no IP address`);
  return ip;
}

/** The id of a compose service's container in a project, or undefined when there is none. */
export async function serviceContainer(
  project: string,
  service: string,
): Promise<string | undefined> {
  const found = await docker.listContainers({
    all: true,
    filters: {
      label: [`com.docker.compose.project=${project}`, `com.docker.compose.service=${service}`],
    },
  });
  return found[0]?.Id;
}

/** Polls until the check answers a value, or fails after the bound with the last reason. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  boundMs: number,
  everyMs = 500,
): Promise<T> {
  const deadline = Date.now() + boundMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(
    `${what}: not within ${boundMs} ms${last ? ` (last: ${(last as Error).message})` : ''}`,
  );
}

/** What `/healthz` answers: overall, and each named check. */
export interface HealthReport {
  ok: boolean;
  failing: string[];
  checks: Record<string, { ok: boolean; detail?: string }>;
}

/** The `/healthz` report at a base URL when it answers 200, else undefined (for `until`). */
export async function health(baseUrl: string): Promise<HealthReport | undefined> {
  const res = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(5000) });
  return res.ok ? ((await res.json()) as HealthReport) : undefined;
}

/** Reads one sample's value out of Prometheus text, or undefined when it is absent. */
export function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Removes every container, network and image this test instance's Deckhand made. */
export const removeInstance = (instance: string) => removeLabelled(docker, instance);
