import type { ReplicaState } from '../engine/docker/inventory.js';
import { type ServiceRecord, replicaName } from '../engine/docker/store.js';

/** A replica Deckhand's record says should run, that is not running. */
export interface DownReplica {
  service: string;
  container: string;
}

/** Protected replicas that are down: the service should run, the user did not stop the replica, and it is not running. */
export function downReplicas(records: ServiceRecord[], live: ReplicaState[]): DownReplica[] {
  const running = new Set(live.filter((r) => r.running).map((r) => r.name));
  return records
    .filter((r) => r.desired === 'running')
    .flatMap((r) =>
      r.replicas
        .filter((n) => !r.held.includes(n))
        .map((n) => ({ service: r.name, container: replicaName(r.name, n) }))
        .filter((d) => !running.has(d.container)),
    );
}
