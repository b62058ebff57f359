import { createSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import Dockerode from 'dockerode';
import { pino } from 'pino';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import { ownedLabels } from '../../src/engine/docker/labels.js';
import { Proxy, ProxyUpdateError, type ProxyService } from '../../src/engine/docker/proxy.js';
import { buildTestImage, collect, LineClient, removeQuietly } from './proxy-support.js';

const docker = new Dockerode();
const id = randomBytes(4).toString('hex');
const instance = `t-px-${id}`;
const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const backendImage = `deckhand-proxytest-backend:${id}`;
const sharedProxyImage = 'deckhand-proxy:latest';

let proxyImage = sharedProxyImage;
let proxy: Proxy;
let network: Dockerode.Network;
const backends: { name: string; ip: string }[] = [];
const madeImages: string[] = [];

const config = () =>
  loadConfig({
    DECKHAND_INSTANCE: instance,
    PROXY_IMAGE: proxyImage,
    DECKHAND_PROXY_NAME: `${instance}-proxy`,
  });

/** Asks every connection through the proxy which replica answered. */
async function hostnamesVia(port: number, connections: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < connections; i++) {
    const client = await LineClient.connect(port);
    seen.add(await client.line());
    client.close();
  }
  return seen;
}

function service(port: number, replicas = backends): ProxyService {
  return {
    name: 'web',
    ports: [{ hostIp: '0.0.0.0', hostPort: port, containerPort: 80, protocol: 'tcp' }],
    backends: replicas.map((b) => b.ip),
  };
}

async function putFile(container: string, dir: string, name: string, text: string) {
  const pack = tar.pack();
  pack.entry({ name }, text);
  pack.finalize();
  await docker.getContainer(container).putArchive(await collect(pack), { path: dir });
}

async function execIn(container: string, cmd: string[]): Promise<string> {
  const exec = await docker
    .getContainer(container)
    .exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const out = new PassThrough();
  const done = collect(out);
  const stream = await exec.start({});
  docker.modem.demuxStream(stream, out, out);
  stream.on('end', () => out.end());
  return (await done).toString('utf8');
}

beforeAll(async () => {
  const hasShared = await docker
    .getImage(sharedProxyImage)
    .inspect()
    .then(
      () => true,
      () => false,
    );
  if (!hasShared) {
    proxyImage = `deckhand-proxytest-nginx:${id}`;
    await buildTestImage(docker, proxyImage, ['nginx', 'libnginx-mod-stream', 'procps'], instance);
    madeImages.push(proxyImage);
  }
  // socat answers each connection with the replica's hostname, then echoes what it is sent.
  await buildTestImage(docker, backendImage, ['socat'], instance);
  madeImages.push(backendImage);

  network = await docker.createNetwork({
    Name: `${instance}-net`,
    Driver: 'bridge',
    Labels: ownedLabels(instance, 'network'),
  });
  for (const n of [1, 2, 3]) {
    const name = `${instance}-b${n}`;
    const container = await docker.createContainer({
      name,
      Image: backendImage,
      Hostname: `replica${n}`,
      Cmd: ['socat', 'TCP-LISTEN:80,reuseaddr,fork', 'SYSTEM:hostname; exec cat'],
      Labels: ownedLabels(instance, 'replica'),
      HostConfig: { NetworkMode: `${instance}-net`, Init: true },
    });
    await container.start();
    const info = await container.inspect();
    backends.push({ name, ip: info.NetworkSettings.Networks[`${instance}-net`]!.IPAddress });
  }

  proxy = new Proxy(docker, config(), log);
  await proxy.ensure();
});

afterAll(async () => {
  await proxy?.remove();
  for (const b of backends)
    await removeQuietly(() => docker.getContainer(b.name).remove({ force: true }));
  await removeQuietly(() => docker.getContainer(`${instance}-stranger`).remove({ force: true }));
  await removeQuietly(() => network?.remove());
  for (const image of madeImages)
    await removeQuietly(() => docker.getImage(image).remove({ force: true }));
});

describe('proxy container', () => {
  it('runs on the host network with init and our labels, and adopts itself on a second ensure', async () => {
    const before = await docker.getContainer(config().proxyName).inspect();
    await proxy.ensure();
    const after = await docker.getContainer(config().proxyName).inspect();

    expect(after.Id).toBe(before.Id);
    expect(after.HostConfig.NetworkMode).toBe('host');
    expect(after.HostConfig.Init).toBe(true);
    expect(after.Config.Labels).toMatchObject(ownedLabels(instance, 'proxy'));
  });

  it('runs only the stream config Deckhand writes, with no default web site', async () => {
    const dump = await execIn(config().proxyName, ['nginx', '-T']);
    expect(dump).toContain('stream {');
    expect(dump).toContain('include /etc/nginx/deckhand/*.conf;');
    expect(dump).not.toMatch(/^\s*http\s*\{/m);
  });

  it('starts the proxy again when it was stopped', async () => {
    await docker.getContainer(config().proxyName).stop();
    await proxy.ensure();
    expect((await docker.getContainer(config().proxyName).inspect()).State.Running).toBe(true);
  });

  it('refuses a container of that name it did not make, and leaves it alone', async () => {
    const name = `${instance}-stranger`;
    await docker.createContainer({ name, Image: backendImage, Cmd: ['true'] });
    const other = new Proxy(
      docker,
      loadConfig({ DECKHAND_INSTANCE: instance, DECKHAND_PROXY_NAME: name }),
      log,
    );

    await expect(other.ensure()).rejects.toThrow(
      new RegExp(`${name} exists that Deckhand did not make`),
    );
    await expect(other.remove()).rejects.toThrow(/did not make/);
    expect((await docker.getContainer(name).inspect()).Name).toBe(`/${name}`);
  });
});

describe('proxy traffic', () => {
  let port: number;

  beforeAll(async () => {
    port = await proxy.freeHostPort([20000, 29999], new Set(), 'tcp');
  });

  it('spreads connections on the host port over every running replica', async () => {
    expect(await proxy.apply([service(port)])).toEqual({ changed: true });
    expect(await hostnamesVia(port, 9)).toEqual(new Set(['replica1', 'replica2', 'replica3']));
  });

  it('skips the reload when nothing changed', async () => {
    expect(await proxy.apply([service(port, [...backends].reverse())])).toEqual({ changed: false });
  });

  it('sends nothing to a replica that is no longer listed', async () => {
    await proxy.apply([service(port, backends.slice(0, 2))]);
    expect(await hostnamesVia(port, 8)).toEqual(new Set(['replica1', 'replica2']));
  });

  it('keeps listening with no running replica, and serves again when one returns', async () => {
    await proxy.apply([service(port, [])]);
    const client = await LineClient.connect(port);
    await expect(client.closed()).resolves.toBe(true);

    await proxy.apply([service(port)]);
    expect(await hostnamesVia(port, 9)).toEqual(new Set(['replica1', 'replica2', 'replica3']));
  });

  it('keeps a long-lived connection open across a reload', async () => {
    const client = await LineClient.connect(port);
    await client.line();
    client.send('before');
    expect(await client.line()).toBe('before');

    expect(await proxy.apply([service(port, backends.slice(1))])).toEqual({ changed: true });
    client.send('after');
    expect(await client.line()).toBe('after');
    client.close();
  });

  it('refuses a config nginx rejects, and keeps serving the previous one', async () => {
    await proxy.apply([service(port)]);
    const live = await proxy.liveConfig();
    await putFile(config().proxyName, '/etc/nginx/deckhand', 'broken.conf', 'this is not nginx;\n');

    const attempt = proxy.apply([service(port, backends.slice(0, 1))]);
    await expect(attempt).rejects.toBeInstanceOf(ProxyUpdateError);
    await expect(attempt).rejects.toThrow(/unknown directive "this"/);
    expect(await proxy.liveConfig()).toBe(live);
    expect(await hostnamesVia(port, 9)).toEqual(new Set(['replica1', 'replica2', 'replica3']));

    await execIn(config().proxyName, ['rm', '/etc/nginx/deckhand/broken.conf']);
  });

  it('refuses a host port something else on the host holds, and keeps serving the previous one', async () => {
    const busy = await proxy.freeHostPort([20000, 29999], new Set([port]), 'tcp');
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(busy, '127.0.0.1', resolve));

    try {
      expect(await proxy.isHostPortFree(busy, 'tcp')).toBe(false);
      const live = await proxy.liveConfig();
      const second: ProxyService = { ...service(busy), name: 'api' };

      const attempt = proxy.apply([service(port), second]);
      await expect(attempt).rejects.toBeInstanceOf(ProxyUpdateError);
      await expect(attempt).rejects.toThrow(
        `bind() to 0.0.0.0:${busy} failed (98: Address already in use)`,
      );
      expect(await proxy.liveConfig()).toBe(live);
      expect(await hostnamesVia(port, 9)).toEqual(new Set(['replica1', 'replica2', 'replica3']));
    } finally {
      squatter.close();
    }
  });
});

describe("proxy restarted or re-created behind Deckhand's back", () => {
  let port: number;
  const everyReplica = new Set(['replica1', 'replica2', 'replica3']);

  beforeAll(async () => {
    port = await proxy.freeHostPort([20000, 29999], new Set(), 'tcp');
    await proxy.apply([service(port)]);
    expect(await hostnamesVia(port, 9)).toEqual(everyReplica);
  });

  it('delivers the config again after a restart on a file someone else rewrote', async () => {
    const name = config().proxyName;
    await putFile(name, '/etc/nginx/deckhand', 'stream.conf', '# rewritten by someone else\n');
    await docker.getContainer(name).restart({ t: 1 });
    await expect(LineClient.connect(port)).rejects.toThrow(/ECONNREFUSED/);

    expect(await proxy.apply([service(port)])).toEqual({ changed: true });
    expect(await hostnamesVia(port, 9)).toEqual(everyReplica);
    expect(await proxy.apply([service(port)])).toEqual({ changed: false });
  });

  it('notices a change another worker made to the same proxy, and puts its own back', async () => {
    const otherWorker = new Proxy(docker, config(), log);
    await proxy.apply([service(port)]);
    expect(await otherWorker.apply([service(port, backends.slice(0, 1))])).toEqual({
      changed: true,
    });
    expect(await hostnamesVia(port, 4)).toEqual(new Set(['replica1']));

    expect(await proxy.apply([service(port)])).toEqual({ changed: true });
    expect(await hostnamesVia(port, 9)).toEqual(everyReplica);
  });

  it('delivers the config again to a proxy removed and made anew', async () => {
    await docker.getContainer(config().proxyName).remove({ force: true });
    await proxy.ensure();
    await expect(LineClient.connect(port)).rejects.toThrow(/ECONNREFUSED/);

    expect(await proxy.apply([service(port)])).toEqual({ changed: true });
    expect(await hostnamesVia(port, 9)).toEqual(everyReplica);
  });
});

describe('proxy udp', () => {
  it('binds a /udp port on the host', async () => {
    const port = await proxy.freeHostPort([20000, 29999], new Set(), 'udp');
    const dns: ProxyService = {
      name: 'dns',
      ports: [{ hostIp: '127.0.0.1', hostPort: port, containerPort: 53, protocol: 'udp' }],
      backends: backends.map((b) => b.ip),
    };

    expect(await proxy.apply([dns])).toEqual({ changed: true });
    expect(await proxy.isHostPortFree(port, 'udp')).toBe(false);
    await proxy.apply([]);
    expect(await proxy.isHostPortFree(port, 'udp')).toBe(true);
  });
});

describe('host port choice', () => {
  it('sees tcp and udp ports bound on the host from inside the proxy', async () => {
    const port = await proxy.freeHostPort([20000, 29999], new Set(), 'udp');
    expect(await proxy.isHostPortFree(port, 'udp')).toBe(true);

    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
    try {
      expect(await proxy.isHostPortFree(port, 'udp')).toBe(false);
      await expect(proxy.freeHostPort([port, port], new Set(), 'udp')).rejects.toThrow(
        /no free udp/,
      );
    } finally {
      socket.close();
    }
  });

  it('skips ports the caller has already handed out', async () => {
    const port = await proxy.freeHostPort([20000, 29999], new Set(), 'tcp');
    await expect(proxy.freeHostPort([port, port], new Set([port]), 'tcp')).rejects.toThrow(
      /no free tcp/,
    );
  });
});

describe('proxy removal', () => {
  it('removes the proxy, and a second removal is not an error', async () => {
    const other = new Proxy(
      docker,
      loadConfig({ DECKHAND_INSTANCE: `${instance}-rm`, PROXY_IMAGE: proxyImage }),
      log,
    );
    await other.ensure();
    await other.remove();
    await other.remove();
    await expect(docker.getContainer(`${instance}-rm-proxy`).inspect()).rejects.toMatchObject({
      statusCode: 404,
    });
  });
});
