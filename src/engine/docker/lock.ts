import { Redlock, ResourceLockedError } from '@sesamecare-oss/redlock';
import type { Redis } from 'ioredis';

/** Per-service mutual exclusion across every worker process that shares Redis. */
export class ServiceLocks {
  private readonly waiting: Redlock;
  private readonly trying: Redlock;

  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    // Commands wait their turn (up to ten minutes); recovery only tries, and comes back later.
    this.waiting = new Redlock([redis], {
      retryCount: 3000,
      retryDelay: 200,
      retryJitter: 50,
      automaticExtensionThreshold: 2000,
    });
    this.trying = new Redlock([redis], { retryCount: 0, automaticExtensionThreshold: 2000 });
  }

  private key(service: string): string {
    return `${this.prefix}:lock:service:${service}`;
  }

  /** Runs `routine` while holding the lock of every named service, waiting for it if needed. */
  with<T>(services: string[], routine: () => Promise<T>): Promise<T> {
    return this.waiting.using(
      [...new Set(services)].sort().map((s) => this.key(s)),
      10_000,
      async () => routine(),
    );
  }

  /** Runs `routine` under the service's lock if it is free now; resolves undefined when it is busy. */
  async ifFree<T>(service: string, routine: () => Promise<T>): Promise<T | undefined> {
    try {
      return await this.trying.using([this.key(service)], 10_000, async () => routine());
    } catch (err) {
      if (err instanceof ResourceLockedError || (err as Error).name === 'ExecutionError')
        return undefined;
      throw err;
    }
  }
}
