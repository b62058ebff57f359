import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import type { RunSpec } from '../../src/core/types.js';
import { resourceLimits } from '../../src/engine/docker/containers.js';
import {
  recordsFromContainers,
  serviceViews,
  type ReplicaState,
} from '../../src/engine/docker/inventory.js';
import type { ServiceRecord } from '../../src/engine/docker/store.js';

const spec: RunSpec = {
  image: 'nginx:alpine',
  env: [],
  labels: {},
  ports: [{ containerPort: 80, protocol: 'tcp', hostPort: 24000 }],
  interactive: true,
  tty: true,
  detach: true,
  name: 'web',
};

const replica = (name: string, service: string, n: number, running: boolean): ReplicaState => ({
  name,
  service,
  replica: n,
  running,
  state: running ? 'running' : 'exited',
  labels: { 'deckhand.spec': JSON.stringify(spec) },
});

describe('rebuilding desired state from container labels', () => {
  it('protects a service that has a running replica and holds its stopped ones', () => {
    const [record] = recordsFromContainers([
      replica('web', 'web', 1, true),
      replica('web-r2', 'web', 2, false),
    ]);
    expect(record).toMatchObject({
      name: 'web',
      replicas: [1, 2],
      desired: 'running',
      held: [2],
      spec,
    });
  });

  it('leaves a service with nothing running stopped, since a user may have stopped it', () => {
    const [record] = recordsFromContainers([replica('web', 'web', 1, false)]);
    expect(record).toMatchObject({ desired: 'stopped', held: [] });
  });

  it('ignores containers without a recorded spec', () => {
    expect(recordsFromContainers([{ ...replica('x', 'x', 1, true), labels: {} }])).toEqual([]);
  });
});

describe('list views', () => {
  const record: ServiceRecord = {
    name: 'web',
    spec,
    replicas: [1, 2, 3],
    desired: 'running',
    held: [3],
    createdAt: '',
  };

  it.each([
    [[true, true, false], 'running', 2, 2],
    [[true, false, false], 'degraded', 1, 2],
  ])('counts running against desired (%j -> %s)', (states, state, running, desired) => {
    const live = ['web', 'web-r2', 'web-r3'].map((name, i) =>
      replica(name, 'web', i + 1, states[i]!),
    );
    const [view] = serviceViews([record], live, '0.0.0.0');
    expect(view).toMatchObject({
      state,
      running,
      desired,
      protected: true,
      ports: ['0.0.0.0:24000->80/tcp'],
    });
  });

  it('shows a crash-looping replica on its service', () => {
    const live = ['web', 'web-r2'].map((name, i) => replica(name, 'web', i + 1, i === 0));
    const [view] = serviceViews([record], live, '0.0.0.0', new Set(['web-r2']));
    expect(view?.state).toBe('crash-looping');
  });

  it('shows a stopped service as stopped and unprotected', () => {
    const [view] = serviceViews([{ ...record, desired: 'stopped' }], [], '0.0.0.0');
    expect(view).toMatchObject({ state: 'stopped', protected: false, desired: 0 });
  });
});

describe('resource limits', () => {
  const config = loadConfig({
    DEFAULT_MEMORY: '256m',
    MAX_MEMORY: '1g',
    DEFAULT_CPUS: '1',
    MAX_CPUS: '2',
  });

  it('fills in the defaults', () => {
    expect(resourceLimits(spec, config)).toEqual({
      Memory: 256 * 1024 ** 2,
      NanoCpus: 1e9,
      PidsLimit: 512,
    });
  });

  it('refuses more than the configured maxima, naming the flag', () => {
    expect(() => resourceLimits({ ...spec, memoryBytes: 2 * 1024 ** 3 }, config)).toThrow(
      /--memory/,
    );
    expect(() => resourceLimits({ ...spec, nanoCpus: 3e9 }, config)).toThrow(/--cpus/);
  });
});
