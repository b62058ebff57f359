import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig, type Config } from '../../src/core/config.js';
import { UserError } from '../../src/core/errors.js';
import { redisOptions } from '../../src/core/redis.js';
import type { BuildRequest } from '../../src/core/types.js';
import { buildImage, type BuildContext } from '../../src/engine/docker/build.js';
import { ensureImage, pullImage } from '../../src/engine/docker/images.js';
import { LABEL } from '../../src/engine/docker/labels.js';
import { BUSYBOX } from '../support/images.js';
import { startFakeRegistry } from './build-registry.js';

const docker = new Docker();
const instance = `t-build-${randomBytes(4).toString('hex')}`;
const testLabel = { 'deckhand.test': instance };
const log = pino({ level: process.env.LOG_LEVEL ?? 'warn' }, pino.destination(2));
let redis: Redis;
let config: Config;
let jobs = 0;

/** A job context like the worker's, recording the progress lines it was given. */
function context(reserveName?: BuildContext['reserveName']): BuildContext & { lines: string[] } {
  jobs += 1;
  const jobId = `${instance}-job-${jobs}`;
  const lines: string[] = [];
  const reserve = async (name: string) =>
    (await redis.set(`deckhand:image-name:${name}`, jobId, 'EX', 3600, 'NX')) === 'OK';
  return {
    jobId,
    log,
    lines,
    progress: (line) => lines.push(line),
    reserveName: reserveName ?? reserve,
  };
}

async function imageNameTags(): Promise<string[]> {
  const images = await docker.listImages();
  return images
    .flatMap((i) => i.RepoTags ?? [])
    .filter((t) => /^image_\d+:/.test(t))
    .sort();
}

/** Runs a command to its end in a throwaway container and returns what it printed. */
async function output(image: string, cmd: string[]): Promise<string> {
  const container = await docker.createContainer({
    Image: image,
    Cmd: cmd,
    Tty: true,
    Labels: testLabel,
  });
  try {
    await container.start();
    await container.wait();
    return (await container.logs({ stdout: true, stderr: true })).toString();
  } finally {
    await container.remove({ force: true });
  }
}

beforeAll(async () => {
  redis = new Redis(inject('redisUrl'), redisOptions(inject('redisUrl')));
  config = loadConfig({ DECKHAND_INSTANCE: instance });
});

afterAll(async () => {
  for (const c of await docker.listContainers({
    all: true,
    filters: { label: [`deckhand.test=${instance}`] },
  })) {
    await docker.getContainer(c.Id).remove({ force: true });
  }
  for (const n of await docker.listNetworks({
    filters: { label: [`deckhand.test=${instance}`] },
  })) {
    await docker.getNetwork(n.Id).remove();
  }
  for (const i of await docker.listImages({
    filters: { label: [`${LABEL.instance}=${instance}`] },
  })) {
    await docker.getImage(i.Id).remove({ force: true });
  }
  await redis.quit();
});

describe('build copy', () => {
  it('puts the file from myimages/ into a new image_N, executable and on PATH', async () => {
    const ctx = context();

    const result = await buildImage(docker, config, { variant: 'copy', file: 'script1' }, ctx);

    expect(result.image).toMatch(/^image_\d+$/);
    expect(result.summary).toBe(`Built ${result.image}`);
    expect(ctx.lines.some((l) => /^Step \d+\/\d+ : COPY /.test(l))).toBe(true);
    const info = await docker.getImage(result.image!).inspect();
    expect(info.Config.Labels).toMatchObject({
      [LABEL.instance]: instance,
      [LABEL.role]: 'image',
      [LABEL.job]: ctx.jobId,
    });
    expect(await output(result.image!, ['script1'])).toMatch(/script1 ran on \S+ at /);
    expect(await output(result.image!, ['stat', '-c', '%a', '/opt/myimages/script1'])).toMatch(
      /^755/,
    );
  });

  it('refuses a file that is not in myimages/, naming it, before building anything', async () => {
    const ctx = context();
    const before = await imageNameTags();

    const attempt = buildImage(docker, config, { variant: 'copy', file: 'missing.txt' }, ctx);

    await expect(attempt).rejects.toThrow(UserError);
    await expect(attempt).rejects.toThrow(/missing\.txt/);
    expect(ctx.lines).toEqual([]);
    expect(await imageNameTags()).toEqual(before);
  });

  describe('with a myimages/ holding tricks', () => {
    let dir: string;
    let tricky: Config;

    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'deckhand-myimages-'));
      await writeFile(path.join(dir, 'plain'), 'plain\n');
      await chmod(path.join(dir, 'plain'), 0o600);
      await symlink('/etc/hostname', path.join(dir, 'escape'));
      await symlink(path.join(dir, 'plain'), path.join(dir, 'alias'));
      await mkdir(path.join(dir, 'folder'));
      tricky = loadConfig({ DECKHAND_INSTANCE: instance, MYIMAGES_DIR: dir });
    });

    afterAll(() => rm(dir, { recursive: true, force: true }));

    it.each<[string, RegExp]>([
      ['escape', /escape leads outside myimages/],
      ['folder', /folder in myimages\/ is not a regular file/],
    ])('refuses %s', async (file, message) => {
      await expect(
        buildImage(docker, tricky, { variant: 'copy', file }, context()),
      ).rejects.toThrow(message);
    });

    it('follows a link that stays inside myimages/ and makes an owner-only file readable', async () => {
      const result = await buildImage(
        docker,
        tricky,
        { variant: 'copy', file: 'alias' },
        context(),
      );

      expect(
        await output(result.image!, [
          'sh',
          '-c',
          'cat /opt/myimages/alias; stat -c %a /opt/myimages/alias',
        ]),
      ).toMatch(/^plain\r?\n644/);
    });
  });
});

describe('build install', () => {
  it('installs a real Debian package and leaves no apt lists behind', async () => {
    const result = await buildImage(docker, config, { variant: 'install', pkg: 'jq' }, context());

    expect(await output(result.image!, ['jq', '--version'])).toMatch(/^jq-1\./);
    expect(await output(result.image!, ['sh', '-c', 'ls /var/lib/apt/lists | wc -l'])).toMatch(
      /^0/,
    );
  });

  it("fails with apt's own words, makes no new image and never names an older one", async () => {
    const before = await imageNameTags();
    const busybox = (await docker.getImage(BUSYBOX).inspect()).Id;
    // An older image_N made by someone else, just above every name in use.
    const highest = Math.max(0, ...before.map((t) => Number(/^image_(\d+):/.exec(t)![1])));
    const older = `image_${highest + 1}`;
    await docker.getImage(BUSYBOX).tag({ repo: older, tag: 'latest' });
    const ctx = context();

    try {
      const attempt = buildImage(
        docker,
        config,
        { variant: 'install', pkg: 'no-such-package-zz9' },
        ctx,
      );

      await expect(attempt).rejects.toThrow(UserError);
      await expect(attempt).rejects.toThrow(
        /build failed: E: Unable to locate package no-such-package-zz9/,
      );
      await expect(attempt).rejects.not.toThrow(/image_\d|Built/);
      expect(await imageNameTags()).toEqual([...before, `${older}:latest`].sort());
      expect((await docker.getImage(older).inspect()).Id).toBe(busybox);
      const made = await docker.listImages({
        all: true,
        filters: { label: [`${LABEL.job}=${ctx.jobId}`] },
      });
      expect(made).toEqual([]);
    } finally {
      await docker.getImage(`${older}:latest`).remove();
    }
  });
});

describe('build netcat', () => {
  it("exposes the port and accepts the earlier tool's nc -l -p as well as nc -lk -p", async () => {
    const result = await buildImage(docker, config, { variant: 'netcat', port: 80 }, context());
    const image = result.image!;
    expect((await docker.getImage(image).inspect()).Config.ExposedPorts).toHaveProperty('80/tcp');

    const network = `${instance}-net`;
    await docker.createNetwork({ Name: network, Labels: testLabel });
    const server = async (name: string, cmd: string[]) => {
      const container = await docker.createContainer({
        name: `${instance}-${name}`,
        Image: image,
        Cmd: cmd,
        Tty: true,
        OpenStdin: true,
        Labels: testLabel,
        HostConfig: { NetworkMode: network },
      });
      await container.start();
      return container;
    };
    const once = await server('once', ['nc', '-l', '-p', '80']);
    const keep = await server('keep', ['nc', '-lk', '-p', '80']);
    // The client retries, bounded, until its server listens.
    const clientOn = async (host: string, text: string) => {
      const c = await docker.createContainer({
        Image: image,
        Cmd: [
          'sh',
          '-c',
          `for i in $(seq 50); do echo ${text} | nc -N -w 3 ${host} 80 && exit 0; sleep 0.1; done; exit 1`,
        ],
        Labels: testLabel,
        HostConfig: { NetworkMode: network },
      });
      await c.start();
      const { StatusCode } = (await c.wait()) as { StatusCode: number };
      await c.remove({ force: true });
      return StatusCode;
    };

    expect(await clientOn(`${instance}-once`, 'hello-once')).toBe(0);
    expect(await clientOn(`${instance}-keep`, 'hello-keep-1')).toBe(0);
    expect(await clientOn(`${instance}-keep`, 'hello-keep-2')).toBe(0);

    expect((await once.logs({ stdout: true })).toString()).toContain('hello-once');
    const kept = (await keep.logs({ stdout: true })).toString();
    expect(kept).toContain('hello-keep-1');
    expect(kept).toContain('hello-keep-2');
    expect((await keep.inspect()).State.Running).toBe(true);
  });
});

describe('image names', () => {
  it('gives builds running at once different names', async () => {
    const contexts = [context(), context(), context()];
    const requests: BuildRequest[] = [
      { variant: 'copy', file: 'script1' },
      { variant: 'copy', file: 'script1' },
      { variant: 'netcat', port: 8080 },
    ];

    const results = await Promise.all(
      requests.map((r, i) => buildImage(docker, config, r, contexts[i]!)),
    );

    const names = results.map((r) => r.image);
    expect(new Set(names).size).toBe(3);
    for (const [i, name] of names.entries()) {
      const labels = (await docker.getImage(name!).inspect()).Config.Labels;
      expect(labels[LABEL.job]).toBe(contexts[i]!.jobId);
    }
  });

  it('takes another name when something else claims the reserved one while the build runs', async () => {
    let stolen: string | undefined;
    const granted = new Set<string>();
    const ctx = context(async (name) => {
      if (granted.has(name)) return false;
      granted.add(name);
      // Another Deckhand, on another Redis, tags the very same name in the engine meanwhile.
      if (!stolen) {
        stolen = name;
        await docker.getImage(BUSYBOX).tag({ repo: name, tag: 'latest' });
      }
      return true;
    });

    try {
      const result = await buildImage(docker, config, { variant: 'copy', file: 'script1' }, ctx);

      expect(result.image).not.toBe(stolen);
      expect((await docker.getImage(stolen!).inspect()).Id).toBe(
        (await docker.getImage(BUSYBOX).inspect()).Id,
      );
      expect((await docker.getImage(result.image!).inspect()).Config.Labels[LABEL.job]).toBe(
        ctx.jobId,
      );
    } finally {
      if (stolen) await docker.getImage(`${stolen}:latest`).remove();
    }
  });
});

describe('pulling an image', () => {
  it('fails at once with one clear error when no registry has it', async () => {
    const attempt = pullImage(docker, 'nginx:no-such-tag', { timeoutMs: 20_000, log });

    await expect(attempt).rejects.toThrow(UserError);
    await expect(attempt).rejects.toThrow(
      /^image nginx:no-such-tag is not available locally and could not be pulled: \S/,
    );
  });

  it('reports an error the engine gives only inside a pull that began well', async () => {
    const registry = await startFakeRegistry('corrupt');
    const ref = `${registry.address}/deckhand-test/${instance}:v1`;
    const lines: string[] = [];
    try {
      const attempt = ensureImage(docker, ref, {
        timeoutMs: 20_000,
        log,
        progress: (l) => lines.push(l),
      });

      await expect(attempt).rejects.toThrow(
        /could not be pulled: filesystem layer verification failed/,
      );
      expect(lines.some((l) => /Pulling/.test(l))).toBe(true);
      await expect(docker.getImage(ref).inspect()).rejects.toMatchObject({ statusCode: 404 });
    } finally {
      await registry.close();
    }
  });

  it('gives up within its bound on a registry that never answers', async () => {
    const registry = await startFakeRegistry('silent');
    try {
      const attempt = pullImage(docker, `${registry.address}/deckhand-test/${instance}:v1`, {
        timeoutMs: 2000,
        log,
      });

      await expect(attempt).rejects.toThrow(
        /could not be pulled: no answer within 2s|not finished within 2s/,
      );
    } finally {
      await registry.close();
    }
  });
});
