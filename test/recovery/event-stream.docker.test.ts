import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually } from '../support/engine.js';
import { cuttableEngine, type CuttableEngine } from './cuttable-socket.js';
import { startDeckhand, startedAt, type RecoveringDeckhand } from './deckhand.js';

const svc = `evt${Math.random().toString(36).slice(2, 7)}`;

/** Resolves with the container's new start time once it is running again after `before`. */
async function restartedAfter(
  d: RecoveringDeckhand,
  before: string | undefined,
  timeoutMs: number,
): Promise<string> {
  return eventually(
    async () => {
      const s = await startedAt(d.docker, svc);
      return s && s !== before ? s : undefined;
    },
    timeoutMs,
    50,
  );
}

describe('the engine event stream dropping', () => {
  let front: CuttableEngine;
  let d: RecoveringDeckhand;

  beforeAll(async () => {
    front = await cuttableEngine();
    // The schedule is an hour away: only the event stream can bring a container back within the test.
    d = await startDeckhand({
      redisUrl: inject('redisUrl'),
      env: { RECOVERY_INTERVAL_MS: '3600000', RECOVERY_SETTLE_MS: '500' },
      events: new Docker({ host: '127.0.0.1', port: front.port, protocol: 'http' }),
    });
    await d.ok(`run -itd --name ${svc} busybox:latest sleep 1000000`);
  });
  afterAll(async () => {
    await d?.close();
    await front?.close();
  });

  it('restarts a killed container from the event the stream carries', async () => {
    const before = await startedAt(d.docker, svc);
    await d.docker.getContainer(svc).kill();
    expect(await restartedAfter(d, before, 10_000)).not.toBe(before);
  });

  it('reconnects once the engine answers again and recovers what died while it was away', async () => {
    front.cut();
    const before = await startedAt(d.docker, svc);
    await d.docker.getContainer(svc).kill();
    await eventually(async () =>
      (await startedAt(d.docker, svc)) === undefined ? true : undefined,
    );

    front.restore();
    expect(await restartedAfter(d, before, 20_000)).not.toBe(before);
  });

  it('follows events again after reconnecting', async () => {
    const before = await startedAt(d.docker, svc);
    await d.docker.getContainer(svc).kill();
    expect(await restartedAfter(d, before, 10_000)).not.toBe(before);
    const kinds = (await d.alerts()).filter((a) => a.container === svc).map((a) => a.kind);
    expect(kinds.every((k) => k === 'recovered')).toBe(true);
  });
});
