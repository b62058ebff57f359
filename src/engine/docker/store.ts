import type { Redis } from 'ioredis';
import type { RunSpec } from '../../core/types.js';

/** What Deckhand has promised to keep running for one service. */
export interface ServiceRecord {
  name: string;
  /** The spec every replica is made from; its ports carry the host ports Deckhand assigned. */
  spec: RunSpec;
  /** Replica numbers; replica 1 is the container named after the service, n > 1 is `<name>-r<n>`. */
  replicas: number[];
  /** 'stopped' after a user stop: recovery leaves the whole service alone. */
  desired: 'running' | 'stopped';
  /** Replicas the user stopped one by one; recovery leaves them alone too. */
  held: number[];
  createdAt: string;
}

/** Name of the container that carries replica `n` of a service. */
export function replicaName(service: string, n: number): string {
  return n === 1 ? service : `${service}-r${n}`;
}

/** Desired state in Redis: one JSON record per service plus an index of names. */
export class StateStore {
  constructor(
    private readonly redis: Redis,
    readonly prefix: string,
  ) {}

  private key(...parts: string[]): string {
    return [this.prefix, ...parts].join(':');
  }

  /** True once the records were written or rebuilt since Redis last started empty. */
  async isInitialised(): Promise<boolean> {
    return (await this.redis.exists(this.key('state', 'initialised'))) === 1;
  }

  /** Replaces all records at once, as after a rebuild from the engine's labels. */
  async replaceAll(records: ServiceRecord[]): Promise<void> {
    const tx = this.redis.multi();
    const names = await this.redis.smembers(this.key('services'));
    for (const name of names) tx.del(this.key('svc', name));
    tx.del(this.key('services'));
    for (const r of records) {
      tx.set(this.key('svc', r.name), JSON.stringify(r));
      tx.sadd(this.key('services'), r.name);
    }
    tx.set(this.key('state', 'initialised'), new Date().toISOString());
    await tx.exec();
  }

  async get(name: string): Promise<ServiceRecord | undefined> {
    const raw = await this.redis.get(this.key('svc', name));
    return raw ? (JSON.parse(raw) as ServiceRecord) : undefined;
  }

  async all(): Promise<ServiceRecord[]> {
    const names = (await this.redis.smembers(this.key('services'))).sort(naturalOrder);
    if (names.length === 0) return [];
    const raws = await this.redis.mget(names.map((n) => this.key('svc', n)));
    return raws.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as ServiceRecord);
  }

  async put(record: ServiceRecord): Promise<void> {
    await this.redis
      .multi()
      .set(this.key('svc', record.name), JSON.stringify(record))
      .sadd(this.key('services'), record.name)
      .set(this.key('state', 'initialised'), new Date().toISOString())
      .exec();
  }

  async delete(name: string): Promise<void> {
    await this.redis.multi().del(this.key('svc', name)).srem(this.key('services'), name).exec();
  }

  /**
   * Returns the plan stored for a job, or stores and returns the one `make` computes.
   * A job that runs again after its worker died finds its first plan and converges on it.
   */
  async plan<T>(jobId: string, make: () => Promise<T>): Promise<T> {
    const key = this.key('plan', jobId);
    const existing = await this.redis.get(key);
    if (existing) return JSON.parse(existing) as T;
    const plan = await make();
    const stored = await this.redis.set(key, JSON.stringify(plan), 'EX', 24 * 3600, 'NX');
    if (stored === 'OK') return plan;
    return JSON.parse((await this.redis.get(key)) ?? JSON.stringify(plan)) as T;
  }

  /** Gives a claimed name back. */
  async release(kind: string, name: string): Promise<void> {
    await this.redis.del(this.key('reserved', kind, name));
  }

  /** Atomically claims a name (an image tag, say) for a while; false when someone holds it. */
  async reserve(kind: string, name: string, ttlSeconds = 3600): Promise<boolean> {
    return (
      (await this.redis.set(this.key('reserved', kind, name), '1', 'EX', ttlSeconds, 'NX')) === 'OK'
    );
  }
}

/** Orders worker2 before worker10. */
export function naturalOrder(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
