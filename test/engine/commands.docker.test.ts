import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  httpGet,
  publishedPort,
  servedBy,
  startTestEngine,
  tcpExchange,
  type TestEngine,
} from '../support/engine.js';

// Container names are engine-wide: unique ones keep this file clear of anyone else's.
const web = `web-${Math.random().toString(36).slice(2, 7)}`;

// The command list of the earlier tool, typed into the console path, against the real engine,
// a real Redis and the real nginx proxy. Each step builds on the one before, as a user would.
describe('the console commands against the real engine', () => {
  let engine: TestEngine;
  let netcatImage = '';

  beforeAll(async () => {
    engine = await startTestEngine();
  });
  afterAll(async () => {
    await engine?.close();
  });

  it('builds a netcat image, streaming the steps, and names it', async () => {
    const out = await engine.exec('build netcat 80');
    expect(out.ok, out.output).toBe(true);
    netcatImage = /Built (image_\d+)/.exec(out.output)?.[1] ?? '';
    expect(netcatImage).not.toBe('');
    expect(out.progress.some((line) => /step/i.test(line))).toBe(true);
    await expect(engine.docker.getImage(netcatImage).inspect()).resolves.toBeTruthy();
  });

  it("reports a failing apt step as a failure with apt's own line", async () => {
    const out = await engine.exec('build install no-such-package-zz9');
    expect(out.ok).toBe(false);
    expect(out.output).toMatch(/Unable to locate package no-such-package-zz9/);
    expect(out.output).not.toMatch(/Built/);
  });

  it("runs the earlier tool's netcat line and passes traffic through the proxy to nc", async () => {
    const out = await engine.exec(`run -itd -p 80 ${netcatImage} nc -l -p 80`);
    expect(out.ok, out.output).toBe(true);
    const service = /Started (\S+)/.exec(out.output)![1]!;
    const port = await publishedPort(engine, service);

    await eventually(async () => {
      await tcpExchange(port, 'hello-through-the-proxy\n', 1000);
      const logs = (
        await engine.docker.getContainer(service).logs({ stdout: true, stderr: true })
      ).toString();
      return logs.includes('hello-through-the-proxy') || undefined;
    });
  });

  it('scales a web service up and spreads requests over every replica, then down', async () => {
    const out = await engine.ok(`run -itd -p 80 --name ${web} nginx:alpine`);
    expect(out).toMatch(new RegExp(`Started ${web}`));
    const port = await publishedPort(engine, web);
    await eventually(async () => ((await httpGet(port)).status === 200 ? true : undefined));

    expect(await engine.ok(`scale up 2 ${web}`)).toMatch(/3 replicas/);
    expect((await servedBy(port, 30)).size).toBe(3);

    expect(await engine.ok(`scale down 2 ${web}`)).toMatch(/1 replica/);
    expect((await servedBy(port, 10)).size).toBe(1);
    const names = (
      await engine.docker.listContainers({
        all: true,
        filters: {
          label: [
            `deckhand.service=${web}`,
            `deckhand.instance=${engine.config.DECKHAND_INSTANCE}`,
          ],
        },
      })
    ).map((c) => c.Names[0]);
    expect(names).toEqual([`/${web}`]);
  });

  it('refuses to scale below one replica or above the cap, and changes nothing', async () => {
    const below = await engine.exec(`scale down 1 ${web}`);
    expect(below.ok).toBe(false);
    expect(below.output).toMatch(/at least 1/);
    const above = await engine.exec(`scale up ${engine.config.MAX_REPLICAS} ${web}`);
    expect(above.ok).toBe(false);
    expect(above.output).toMatch(/cap/);
    expect(await engine.ok('list')).toMatch(
      new RegExp(`${web}\\s+nginx:alpine\\s+1\\/1\\s+running`),
    );
  });

  it('stops and starts a service, answering the state it is already in', async () => {
    await engine.ok(`scale up 1 ${web}`);
    expect(await engine.ok(`stop ${web}`)).toMatch(new RegExp(`Stopped ${web}`));
    expect(await engine.ok(`stop ${web}`)).toMatch(/already stopped/);
    expect(await engine.ok('list')).toMatch(
      new RegExp(`${web}\\s+nginx:alpine\\s+0\\/0\\s+stopped.*\\bno$`, 'm'),
    );

    expect(await engine.ok(`start ${web}`)).toMatch(new RegExp(`Started ${web}`));
    expect(await engine.ok(`start ${web}`)).toMatch(/already running/);
    const port = await publishedPort(engine, web);
    expect((await servedBy(port, 10)).size).toBe(2);
  });

  it('lists every service with replicas, state, ports and protection', async () => {
    const out = await engine.ok('list');
    const port = await publishedPort(engine, web);
    expect(out).toMatch(
      new RegExp(
        `${web}\\s+nginx:alpine\\s+2/2\\s+running\\s+127\\.0\\.0\\.1:${port}->80/tcp\\s+yes`,
      ),
    );
  });

  it('brings a killed replica back with recovery and says what it fixed', async () => {
    await engine.docker.getContainer(`${web}-r2`).kill();
    const out = await engine.ok('recovery');
    expect(out).toMatch(new RegExp(`restarted ${web}-r2`));
    const info = await engine.docker.getContainer(`${web}-r2`).inspect();
    expect(info.State.Running).toBe(true);
    expect(await engine.ok('recovery')).toMatch(/Nothing to recover/);
  });

  it('refuses names it does not manage', async () => {
    const out = await engine.exec('stop no-such-service');
    expect(out.ok).toBe(false);
    expect(out.output).toMatch(/no service named no-such-service/);
  });

  it('quits, leaving no container, proxy or network behind; a second quit has nothing to do', async () => {
    const out = await engine.ok('quit');
    expect(out).toMatch(/Removed 3 containers of 2 services/);
    const filters = { label: [`deckhand.instance=${engine.config.DECKHAND_INSTANCE}`] };
    expect(await engine.docker.listContainers({ all: true, filters })).toEqual([]);
    expect(await engine.docker.listNetworks({ filters })).toEqual([]);
    expect(await engine.ok('quit')).toMatch(/Nothing to remove/);
  });

  it('runs again after quit, re-creating the network and proxy', async () => {
    expect(await engine.ok('run -itd -p 80 nginx:alpine')).toMatch(/Started worker\d+/);
    expect(await engine.ok('quit')).toMatch(/Removed 1 container/);
  });
});
