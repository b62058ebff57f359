import { describe, expect, it } from 'vitest';
import type { ReplicaState } from '../../src/engine/docker/inventory.js';
import type { ServiceRecord } from '../../src/engine/docker/store.js';
import { downReplicas } from '../../src/recovery/down-replicas.js';

const record = (
  name: string,
  replicas: number[],
  o: Partial<ServiceRecord> = {},
): ServiceRecord => ({
  name,
  spec: {
    image: 'busybox:latest',
    env: [],
    labels: {},
    ports: [],
    interactive: false,
    tty: false,
    detach: true,
  },
  replicas,
  desired: 'running',
  held: [],
  createdAt: '2026-01-01T00:00:00Z',
  ...o,
});
const live = (name: string, running: boolean): ReplicaState => ({
  name,
  service: name.replace(/-r\d+$/, ''),
  replica: Number(/-r(\d+)$/.exec(name)?.[1] ?? 1),
  running,
  state: running ? 'running' : 'exited',
  labels: {},
});

describe('which replicas recovery must bring back', () => {
  it('names a protected replica that exited, or whose container is gone', () => {
    const down = downReplicas(
      [record('web', [1, 2, 3])],
      [live('web', true), live('web-r2', false)],
    );
    expect(down).toEqual([
      { service: 'web', container: 'web-r2' },
      { service: 'web', container: 'web-r3' },
    ]);
  });

  it('leaves alone a service the user stopped, whatever its exit codes', () => {
    expect(
      downReplicas(
        [record('web', [1, 2], { desired: 'stopped' })],
        [live('web', false), live('web-r2', false)],
      ),
    ).toEqual([]);
  });

  it('leaves alone a replica the user stopped on its own', () => {
    expect(
      downReplicas(
        [record('web', [1, 2], { held: [2] })],
        [live('web', true), live('web-r2', false)],
      ),
    ).toEqual([]);
  });

  it('ignores containers no record asks for (scaled down, or not yet recorded)', () => {
    expect(downReplicas([record('web', [1])], [live('web', true), live('web-r2', false)])).toEqual(
      [],
    );
  });
});
