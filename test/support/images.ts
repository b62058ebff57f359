import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import Docker from 'dockerode';
import type { Logger } from 'pino';
import tar from 'tar-stream';
import { loadConfig } from '../../src/core/config.js';
import { UserError } from '../../src/core/errors.js';
import {
  asNodeStream,
  dockerfileContext,
  ensureProxyImage,
  imageExists,
  pullImage,
  readEngineStream,
} from '../../src/engine/docker/images.js';

/** Label on every image the test setup made from local material, with what it stands in for. */
export const TEST_IMAGE_LABEL = 'deckhand.test-image';

export const BUSYBOX = 'busybox:latest';
export const DEBIAN = 'debian:bookworm-slim';
export const NGINX = 'nginx:alpine';

const PULL_TIMEOUT_MS = 15_000;
const MAKE_TIMEOUT_MS = 15 * 60_000;

/** What the setup found or made for one image, and how long that took. */
export interface ImageReport {
  image: string;
  how: 'present' | 'pulled' | 'made';
  ms: number;
}

/**
 * Makes sure every image the Docker tests use exists: present ones are skipped, the rest are
 * pulled where a registry answers, else made from local material (busybox-static, debootstrap).
 */
export async function ensureTestImages(log: Logger, docker = new Docker()): Promise<ImageReport[]> {
  const config = loadConfig({ ...process.env, BASE_IMAGE: DEBIAN });
  const timed = async (image: string, make: () => Promise<ImageReport['how']>) => {
    const started = Date.now();
    const report = { image, how: await make(), ms: Date.now() - started };
    log.info(report, report.how === 'present' ? 'test image present' : `test image ${report.how}`);
    return report;
  };

  const debianThenBuilt = async () => {
    const debian = await timed(DEBIAN, () =>
      pullOrMake(docker, DEBIAN, log, () => makeDebian(docker, DEBIAN)),
    );
    const built = await Promise.all([
      timed(NGINX, () =>
        makeOnce(docker, NGINX, () => makeNginxStandIn(docker, NGINX, DEBIAN)),
      ).then(async (report) => {
        const labels = (await docker.getImage(NGINX).inspect()).Config.Labels ?? {};
        if (!labels[TEST_IMAGE_LABEL]) {
          log.warn(
            { image: NGINX },
            'nginx:alpine is not the local stand-in; tests that tell replicas apart by hostname will fail',
          );
        }
        return report;
      }),
      timed(config.PROXY_IMAGE, () =>
        makeOnce(docker, config.PROXY_IMAGE, () => ensureProxyImage(docker, config, log)),
      ),
    ]);
    return [debian, ...built];
  };
  const [busybox, rest] = await Promise.all([
    timed(BUSYBOX, () => pullOrMake(docker, BUSYBOX, log, () => makeBusybox(docker, BUSYBOX))),
    debianThenBuilt(),
  ]);
  return [busybox, ...rest];
}

async function pullOrMake(
  docker: Docker,
  ref: string,
  log: Logger,
  make: () => Promise<void>,
): Promise<ImageReport['how']> {
  if (await imageExists(docker, ref)) return 'present';
  try {
    await pullImage(docker, ref, { timeoutMs: PULL_TIMEOUT_MS, log });
    return 'pulled';
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    log.info({ image: ref, reason: err.message }, 'no registry answers, making the image locally');
  }
  await make();
  return 'made';
}

// The nginx stand-in is never pulled: the real nginx:alpine does not answer with its hostname,
// which the proxy tests rely on to tell replicas apart.
async function makeOnce(
  docker: Docker,
  ref: string,
  make: () => Promise<void>,
): Promise<ImageReport['how']> {
  if (await imageExists(docker, ref)) return 'present';
  await make();
  return 'made';
}

/** Imports a rootfs holding only Debian's static busybox and its applet links. */
export async function makeBusybox(docker: Docker, ref: string): Promise<void> {
  const binary = '/bin/busybox';
  if (spawnSync('ldd', [binary]).status === 0) {
    throw new Error(`${binary} is linked dynamically; install Debian's busybox-static package`);
  }
  const applets = spawnSync(binary, ['--list-full'], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter(Boolean);
  const rootfs = tar.pack();
  for (const dir of [
    'bin',
    'sbin',
    'usr',
    'usr/bin',
    'usr/sbin',
    'etc',
    'root',
    'proc',
    'sys',
    'dev',
  ]) {
    rootfs.entry({ name: dir, type: 'directory', mode: 0o755 });
  }
  rootfs.entry({ name: 'tmp', type: 'directory', mode: 0o1777 });
  rootfs.entry(
    { name: 'etc/passwd', mode: 0o644 },
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n',
  );
  rootfs.entry({ name: 'etc/group', mode: 0o644 }, 'root:x:0:\nnogroup:x:65534:\n');
  rootfs.entry({ name: 'bin/busybox', mode: 0o755 }, await readFile(binary));
  for (const applet of applets.filter((a) => a !== 'bin/busybox')) {
    rootfs.entry({ name: applet, type: 'symlink', linkname: '/bin/busybox' });
  }
  rootfs.finalize();
  await importRootfs(docker, asNodeStream(rootfs), ref, [
    'CMD ["sh"]',
    `LABEL ${TEST_IMAGE_LABEL}=busybox`,
  ]);
}

/** Bootstraps a minimal Debian bookworm with debootstrap (needs root) and imports it. */
export async function makeDebian(docker: Docker, ref: string): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'deckhand-debootstrap-'));
  try {
    await run('debootstrap', [
      '--variant=minbase',
      'bookworm',
      dir,
      'http://deb.debian.org/debian',
    ]);
    await run('sh', [
      '-c',
      `rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/cache/apt/*.bin "$1"/var/lib/apt/lists/*`,
      'sh',
      dir,
    ]);
    const packer = spawn('tar', ['-C', dir, '--numeric-owner', '-cf', '-', '.'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => packer.once('close', resolve));
    await importRootfs(docker, packer.stdout, ref, [
      'CMD ["bash"]',
      `LABEL ${TEST_IMAGE_LABEL}=debian`,
    ]);
    if ((await exited) !== 0) throw new Error('tar of the debootstrap rootfs failed');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Builds a Debian nginx that answers every request with its own hostname, standing in for nginx:alpine. */
export async function makeNginxStandIn(docker: Docker, ref: string, base: string): Promise<void> {
  const site = [
    'server {',
    '    listen 80 default_server;',
    '    location / {',
    '        default_type text/html;',
    '        return 200 "<html><body><h1>nginx stand-in</h1><p>served by $hostname</p></body></html>\\n";',
    '    }',
    '}',
  ].join('\n');
  const dockerfile = [
    `FROM ${base}`,
    'RUN apt-get update -q \\',
    ' && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nginx \\',
    ' && apt-get clean && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/default \\',
    ' && ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log',
    'COPY hostname.conf /etc/nginx/conf.d/hostname.conf',
    'EXPOSE 80',
    'STOPSIGNAL SIGQUIT',
    `LABEL ${TEST_IMAGE_LABEL}=nginx-stand-in`,
    'CMD ["nginx", "-g", "daemon off;"]',
    '',
  ].join('\n');
  const context = dockerfileContext(dockerfile, { 'hostname.conf': `${site}\n` });
  const stream = (await docker.buildImage(context, {
    t: ref,
    forcerm: true,
    rm: true,
  })) as Readable;
  await checked(stream, `building ${ref}`);
}

async function importRootfs(
  docker: Docker,
  rootfs: Readable,
  ref: string,
  changes: string[],
): Promise<void> {
  const [repo, tag] = ref.split(':') as [string, string];
  const stream = (await docker.importImage(rootfs, { repo, tag, changes } as object)) as Readable;
  await checked(stream, `importing ${ref}`);
}

async function checked(stream: Readable, what: string): Promise<void> {
  const tail: string[] = [];
  const { errors } = await readEngineStream(stream, {
    timeoutMs: MAKE_TIMEOUT_MS,
    onRecord: (r) => void (r.stream && tail.push(r.stream) > 20 && tail.shift()),
  });
  if (errors.length > 0) throw new Error(`${what} failed: ${errors.join('; ')}\n${tail.join('')}`);
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child.once('error', (err) => reject(new Error(`${command} could not start: ${err.message}`)));
    child.once('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${stderr}`));
    });
  });
}
