import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { ServiceLocks } from '../../src/engine/docker/lock.js';
import {
  createSubnetNetwork,
  eventually,
  hostOf,
  hostnames,
  httpGet,
  servedBy,
  startSquatter,
} from '../support/engine.js';
import { startDeckhand, startedAt, type RecoveringDeckhand } from './deckhand.js';

const tag = Math.random().toString(36).slice(2, 7);
const web = `web${tag}`;
const idle = `idle${tag}`;

/** Scheduled recovery passes that finished after `since`. */
async function passesSince(d: RecoveringDeckhand, since: number): Promise<number> {
  const done = await d.recovery.schedule.queue.getCompleted(0, 500);
  return done.filter((j) => (j.finishedOn ?? 0) > since).length;
}

describe('recovery of crashed replicas', () => {
  let d: RecoveringDeckhand;
  const alertsFor = async (container: string) =>
    (await d.alerts()).filter((a) => a.container === container);

  beforeAll(async () => {
    d = await startDeckhand({
      redisUrl: inject('redisUrl'),
      env: { RECOVERY_INTERVAL_MS: '1000', RECOVERY_SETTLE_MS: '1000', CRASHLOOP_RESET_MS: '2500' },
    });
    // Deckhand's network made with a subnet, so the test can hand a freed address to a stranger.
    await createSubnetNetwork(d.docker, d.config);
    await d.ok(`run -itd -p 80 --name ${web} nginx:alpine`);
    await d.ok(`scale up 1 ${web}`);
  });
  afterAll(async () => {
    await d?.close();
  });

  it('restarts a killed replica at once and alerts once, naming it and saying what was done', async () => {
    const before = await startedAt(d.docker, `${web}-r2`);
    await d.docker.getContainer(`${web}-r2`).kill();

    const after = await eventually(
      async () => {
        const s = await startedAt(d.docker, `${web}-r2`);
        return s && s !== before ? s : undefined;
      },
      10_000,
      50,
    );
    expect(after).not.toBe(before);

    const [alert] = await eventually(async () => {
      const a = await alertsFor(`${web}-r2`);
      return a.length > 0 ? a : undefined;
    });
    expect(alert).toMatchObject({
      kind: 'recovered',
      service: web,
      container: `${web}-r2`,
      exitCode: 137,
      oom: false,
    });
    expect(alert!.message).toMatch(
      new RegExp(`${web}-r2 died \\(exit code 137\\) and was restarted`),
    );
    expect(alert!.downMs).toBeLessThan(5000);

    // Every other path looks again: the manual command, a scheduled pass, the hooks around `list`.
    await d.ok('recovery');
    await d.recovery.reconcile();
    await d.ok('list');
    expect(await alertsFor(`${web}-r2`)).toHaveLength(1);
  });

  it('handles a second kill after a stretch of clean running as a new incident, with its own alert', async () => {
    const started = Date.parse((await startedAt(d.docker, `${web}-r2`))!);
    await eventually(
      async () => (Date.now() - started > d.config.CRASHLOOP_RESET_MS + 200 ? true : undefined),
      10_000,
      100,
    );

    const before = await startedAt(d.docker, `${web}-r2`);
    await d.docker.getContainer(`${web}-r2`).kill();
    await eventually(
      async () => {
        const s = await startedAt(d.docker, `${web}-r2`);
        return s && s !== before ? s : undefined;
      },
      10_000,
      50,
    );
    const alerts = await eventually(async () => {
      const a = await alertsFor(`${web}-r2`);
      return a.length === 2 ? a : undefined;
    });
    expect(alerts.map((a) => a.kind)).toEqual(['recovered', 'recovered']);
  });

  it('brings a replica removed behind its back back from its recorded spec', async () => {
    await d.docker.getContainer(`${web}-r2`).remove({ force: true });
    await eventually(() => startedAt(d.docker, `${web}-r2`), 10_000, 50);
    expect(await d.ok('list')).toMatch(new RegExp(`${web}\\s+nginx:alpine\\s+2/2\\s+running`));
  });

  it('gives a recovered replica traffic at its new address, never the old one', async () => {
    const port = (await d.backend.store.get(web))!.spec.ports[0]!.hostPort!;
    const network = d.config.network;
    const oldIp = (await d.docker.getContainer(web).inspect()).NetworkSettings.Networks[network]!
      .IPAddress;

    // A command holds the service while the replica dies and a stranger takes its address.
    const squatter = await new ServiceLocks(d.redis, d.prefix).with([web], async () => {
      await d.docker.getContainer(web).kill();
      await eventually(async () =>
        (await d.docker.getContainer(web).inspect()).State.Running ? undefined : true,
      );
      const c = await startSquatter(d.docker, d.config, oldIp);
      return c;
    });
    onTestFinished(() => squatter.remove({ force: true }));
    const squatterHost = (await squatter.inspect()).Config.Hostname;

    await eventually(() => startedAt(d.docker, web), 15_000, 100);
    const newIp = (await d.docker.getContainer(web).inspect()).NetworkSettings.Networks[network]!
      .IPAddress;
    expect(newIp).not.toBe(oldIp);

    // Recovery is through once the recovered replica answers through the proxy.
    const webHost = (await d.docker.getContainer(web).inspect()).Config.Hostname;
    await eventually(async () =>
      hostOf((await httpGet(port)).body) === webHost ? true : undefined,
    );
    expect(await d.backend.proxy.liveConfig()).not.toContain(`server ${oldIp}:80;`);
    const replicaHosts = await hostnames(d.docker, [web, `${web}-r2`]);
    const seen = await servedBy(port, 30);
    expect(seen.has(squatterHost)).toBe(false);
    expect(seen).toEqual(replicaHosts);
  });

  it('gives a replica back its traffic at once when it comes back on its old address, though requests kept failing on it', async () => {
    const port = (await d.backend.store.get(web))!.spec.ports[0]!.hostPort!;
    const r2 = `${web}-r2`;
    const host = (await d.docker.getContainer(r2).inspect()).Config.Hostname;
    const before = await startedAt(d.docker, r2);

    // Requests keep arriving while the replica is down, so nginx notes failed connections to it.
    let back = false;
    const traffic = (async () => {
      while (!back) await httpGet(port).catch(() => undefined);
    })();
    await d.docker.getContainer(r2).kill();
    await eventually(
      async () => {
        const s = await startedAt(d.docker, r2);
        return s && s !== before ? s : undefined;
      },
      10_000,
      50,
    );
    back = true;
    await traffic;

    // Within the recovery cycle plus a little, well inside nginx's 10 s fail_timeout.
    await eventually(
      async () => (hostOf((await httpGet(port)).body) === host ? true : undefined),
      5000,
      20,
    );
  });

  it('leaves a replica the user stopped alone across several intervals, without an alert', async () => {
    await d.ok(`run -itd --name ${idle} busybox:latest sleep 1000000`);
    await d.ok(`scale up 1 ${idle}`);
    const alertsBefore = (await d.alerts()).length;

    // The console's parser refuses replica names for now; the engine's stop of one replica is what counts here.
    await d.backend.stop(`${idle}-r2`, {
      jobId: 'test-stop-one-replica',
      log: d.log,
      progress: () => undefined,
    });
    const since = Date.now();
    await eventually(
      async () => ((await passesSince(d, since)) >= 3 ? true : undefined),
      20_000,
      200,
    );
    await d.ok('recovery');
    expect(await startedAt(d.docker, `${idle}-r2`)).toBeUndefined();
    expect(await startedAt(d.docker, idle)).toBeDefined();
    expect((await d.alerts()).length).toBe(alertsBefore);
  });

  it('leaves a whole service the user stopped alone, without an alert', async () => {
    const alertsBefore = (await d.alerts()).length;
    await d.ok(`stop ${idle}`);
    const since = Date.now();
    await eventually(
      async () => ((await passesSince(d, since)) >= 3 ? true : undefined),
      20_000,
      200,
    );
    await d.ok('list');
    expect(await startedAt(d.docker, idle)).toBeUndefined();
    expect(await startedAt(d.docker, `${idle}-r2`)).toBeUndefined();
    expect((await d.alerts()).length).toBe(alertsBefore);
  });

  it('protects a started service again', async () => {
    await d.ok(`start ${idle}`);
    const before = await startedAt(d.docker, `${idle}-r2`);
    expect(before).toBeDefined();
    await d.docker.getContainer(`${idle}-r2`).kill();
    await eventually(
      async () => {
        const s = await startedAt(d.docker, `${idle}-r2`);
        return s && s !== before ? s : undefined;
      },
      10_000,
      50,
    );
  });
});
