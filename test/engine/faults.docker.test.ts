import net from 'node:net';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  eventually,
  httpGet,
  publishedPort,
  startTestEngine,
  type TestEngine,
  createSubnetNetwork,
  hostOf,
  startSquatter,
  servedBy,
  hostnames,
} from '../support/engine.js';

// Container names are engine-wide: unique ones keep this file clear of anyone else's.
const svc = `svc-${Math.random().toString(36).slice(2, 7)}`;
const again = `again-${Math.random().toString(36).slice(2, 7)}`;

/** Runs a command in a container and returns its exit code and output. */
async function dockerExec(
  engine: TestEngine,
  container: string,
  cmd: string[],
): Promise<{ code: number; out: string }> {
  const exec = await engine.docker
    .getContainer(container)
    .exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  const sink = new PassThrough();
  let out = '';
  sink.on('data', (d) => (out += d.toString()));
  engine.docker.modem.demuxStream(stream, sink, sink);
  await new Promise((r) => stream.on('end', r));
  return { code: (await exec.inspect()).ExitCode ?? -1, out };
}

describe('Docker answers that mean the goal is reached, and teardown order', () => {
  let engine: TestEngine;
  const label = () => ({ 'deckhand.instance': engine.config.DECKHAND_INSTANCE });

  beforeAll(async () => {
    engine = await startTestEngine();
    // The test makes Deckhand's network itself, with a subnet, so it can hand a freed address to a squatter.
    await createSubnetNetwork(engine.docker, engine.config);
    await engine.ok(`run -itd -p 80 --name ${svc} nginx:alpine`);
  });
  afterAll(async () => {
    await engine.docker
      .getContainer(`${svc}-r3`)
      .remove({ force: true })
      .catch(() => undefined);
    await engine?.close();
  });

  it('replaces a stale replica left by a crashed scale-up, and counts right', async () => {
    await engine.docker.createContainer({
      name: `${svc}-r2`,
      Image: 'nginx:alpine',
      Labels: {
        ...label(),
        'deckhand.role': 'replica',
        'deckhand.service': svc,
        'deckhand.replica': '2',
      },
    });
    expect(await engine.ok(`scale up 1 ${svc}`)).toMatch(/2 replicas/);
    expect((await engine.docker.getContainer(`${svc}-r2`).inspect()).State.Running).toBe(true);
  });

  it('never deletes a container it did not make that holds the next replica name', async () => {
    const foreign = await engine.docker.createContainer({
      name: `${svc}-r3`,
      Image: 'nginx:alpine',
      Labels: { 'deckhand.test': 'foreign' },
    });
    expect(await engine.ok(`scale up 1 ${svc}`)).toMatch(/3 replicas/);
    expect((await foreign.inspect()).Config.Labels['deckhand.test']).toBe('foreign');
    expect(await engine.ok('list')).toMatch(
      new RegExp(`${svc}\\s+nginx:alpine\\s+3\\/3\\s+running`),
    );
    await engine.ok(`scale down 1 ${svc}`);
  });

  it('scales down cleanly when a replica was removed behind its back', async () => {
    const before = await engine.backend.store.get(svc);
    const last = `${svc}-r${Math.max(...before!.replicas)}`;
    await engine.docker.getContainer(last).remove({ force: true });
    expect(await engine.ok(`scale down 1 ${svc}`)).toMatch(/1 replica\b/);
    const port = await publishedPort(engine, svc);
    for (let i = 0; i < 5; i++) expect((await httpGet(port)).status).toBe(200);
  });

  it('keeps sending traffic to replicas only, after one comes back on a new address', async () => {
    await engine.ok(`scale up 1 ${svc}`);
    const port = await publishedPort(engine, svc);
    const oldIp = (await engine.docker.getContainer(svc).inspect()).NetworkSettings.Networks[
      engine.config.network
    ]!.IPAddress;
    await engine.docker.getContainer(svc).kill();

    // A throwaway container takes the freed address on the same network.
    const squatter = await startSquatter(engine.docker, engine.config, oldIp);
    onTestFinished(() => squatter.remove({ force: true }));
    const squatterHost = (await squatter.inspect()).Config.Hostname;
    expect(
      (await squatter.inspect()).NetworkSettings.Networks[engine.config.network]!.IPAddress,
    ).toBe(oldIp);

    await engine.ok('recovery');
    const replicaHosts = await hostnames(engine.docker, [svc, `${svc}-r2`]);
    const seen = await servedBy(port, 30);
    expect(seen.has(squatterHost)).toBe(false);
    expect(seen).toEqual(replicaHosts);
  });

  it("judges a proxy update by nginx's exit code, and never says scaled when it failed", async () => {
    const proxy = engine.config.proxyName;
    const listed = await dockerExec(engine, proxy, ['nginx', '-T']);
    expect(listed.code).toBe(0);
    const ips = await Promise.all(
      [svc, `${svc}-r2`].map(
        async (n) =>
          (await engine.docker.getContainer(n).inspect()).NetworkSettings.Networks[
            engine.config.network
          ]!.IPAddress,
      ),
    );
    for (const ip of ips) {
      expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(listed.out).toContain(`server ${ip}:80;`);
    }

    await dockerExec(engine, proxy, [
      'sh',
      '-c',
      'echo "this is not nginx config" > /etc/nginx/deckhand/broken.conf',
    ]);
    try {
      const out = await engine.exec(`scale up 1 ${svc}`);
      expect(out.ok).toBe(false);
      expect(out.output).toMatch(/proxy could not be updated/);
      expect(out.output).not.toMatch(/scaled/);
      expect(await engine.ok('list')).toMatch(
        new RegExp(`${svc}\\s+nginx:alpine\\s+2\\/2\\s+running`),
      );
    } finally {
      await dockerExec(engine, proxy, ['rm', '-f', '/etc/nginx/deckhand/broken.conf']);
    }
    expect(await engine.ok(`scale up 1 ${svc}`)).toMatch(/3 replicas/);
  });

  it('gives a name back when its run fails, and keeps tcp and udp of one port apart', async () => {
    const blocker = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    const busy = (blocker.address() as net.AddressInfo).port;
    try {
      const failed = await engine.exec(
        `run -d -p 127.0.0.1:${busy}:80 --name ${again}-x nginx:alpine`,
      );
      expect(failed.ok).toBe(false);
      expect(failed.output).toMatch(new RegExp(`${busy}/tcp is already in use`));
    } finally {
      blocker.close();
    }
    const port = busy;
    expect(
      await engine.ok(
        `run -d -p 127.0.0.1:${port}:80 -p 127.0.0.1:${port}:80/udp --name ${again}-x nginx:alpine`,
      ),
    ).toMatch(/Started/);
    expect((await httpGet(port)).status).toBe(200);
  });

  it('answers "already stopped" and "already running" without an error', async () => {
    await engine.ok(`stop ${svc}`);
    expect(await engine.ok(`stop ${svc}`)).toMatch(/already stopped/);
    await engine.ok(`start ${svc}`);
    expect(await engine.ok(`start ${svc}`)).toMatch(/already running/);
  });

  it('quits with replicas and the proxy running, removing the network after them', async () => {
    await engine.ok('quit');
    const filters = { label: [`deckhand.instance=${engine.config.DECKHAND_INSTANCE}`] };
    expect(await engine.docker.listContainers({ all: true, filters })).toEqual([]);
    const networks = await engine.docker.listNetworks();
    expect(networks.map((n) => n.Name)).not.toContain(engine.config.network);
    expect(await engine.ok('quit')).toMatch(/Nothing to remove/);
    expect(await engine.ok(`run -itd -p 80 --name ${again} nginx:alpine`)).toMatch(
      new RegExp(`Started ${again}`),
    );
    await eventually(async () =>
      (await httpGet(await publishedPort(engine, again))).status === 200 ? true : undefined,
    );
  });
});
