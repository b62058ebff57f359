import type Dockerode from 'dockerode';
import type { ServiceView } from '../../core/types.js';
import { LABEL, ownedFilter } from './labels.js';
import { type ServiceRecord, naturalOrder, replicaName } from './store.js';

/** One replica container as the engine reports it. */
export interface ReplicaState {
  name: string;
  service: string;
  replica: number;
  running: boolean;
  state: string;
  ip?: string;
  labels: Record<string, string>;
}

/** Every replica container of this instance, in one engine call. */
export async function listReplicas(
  docker: Dockerode,
  instance: string,
  network: string,
): Promise<ReplicaState[]> {
  const containers = await docker.listContainers({
    all: true,
    filters: ownedFilter(instance, 'replica'),
  });
  return containers.map((c) => ({
    name: (c.Names[0] ?? '').replace(/^\//, ''),
    service: c.Labels[LABEL.service] ?? '',
    replica: Number(c.Labels[LABEL.replica] ?? 0),
    running: c.State === 'running',
    state: c.State,
    ip: c.NetworkSettings?.Networks?.[network]?.IPAddress || undefined,
    labels: c.Labels,
  }));
}

/** Rebuilds desired state from the labels on the containers, after Redis lost it. */
export function recordsFromContainers(replicas: ReplicaState[]): ServiceRecord[] {
  const byService = new Map<string, ReplicaState[]>();
  for (const r of replicas) {
    if (!r.service || !r.labels[LABEL.spec]) continue;
    byService.set(r.service, [...(byService.get(r.service) ?? []), r]);
  }
  return [...byService.entries()].map(([name, members]) => {
    const anyRunning = members.some((m) => m.running);
    // A stopped container may have been stopped on purpose; without the record it is left stopped.
    return {
      name,
      spec: JSON.parse(members[0]!.labels[LABEL.spec]!),
      replicas: members.map((m) => m.replica).sort((a, b) => a - b),
      desired: anyRunning ? 'running' : 'stopped',
      held: anyRunning ? members.filter((m) => !m.running).map((m) => m.replica) : [],
      createdAt: new Date().toISOString(),
    } satisfies ServiceRecord;
  });
}

/** Renders records and live containers as `list` shows them. */
export function serviceViews(
  records: ServiceRecord[],
  replicas: ReplicaState[],
  publishIp: string,
  crashLooping: Set<string> = new Set(),
): ServiceView[] {
  return records
    .sort((a, b) => naturalOrder(a.name, b.name))
    .map((record) => {
      const members = record.replicas.map((n) => {
        const name = replicaName(record.name, n);
        const live = replicas.find((r) => r.name === name);
        const desired: 'running' | 'stopped' =
          record.desired === 'running' && !record.held.includes(n) ? 'running' : 'stopped';
        return { name, state: live?.state ?? 'missing', desired, running: live?.running ?? false };
      });
      const running = members.filter((m) => m.running).length;
      const desired = members.filter((m) => m.desired === 'running').length;
      const looping = members.some((m) => crashLooping.has(m.name));
      const state: ServiceView['state'] = looping
        ? 'crash-looping'
        : record.desired === 'stopped' || desired === 0
          ? 'stopped'
          : running >= desired
            ? 'running'
            : 'degraded';
      return {
        name: record.name,
        image: record.spec.image,
        state,
        running,
        desired,
        ports: record.spec.ports.map(
          (p) => `${p.hostIp ?? publishIp}:${p.hostPort}->${p.containerPort}/${p.protocol}`,
        ),
        protected: record.desired === 'running',
        replicas: members.map(({ name, state: s, desired: d }) => ({ name, state: s, desired: d })),
      };
    });
}
