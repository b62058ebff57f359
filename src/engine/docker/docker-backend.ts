import type Dockerode from 'dockerode';
import pLimit from 'p-limit';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Backend, OperationContext } from '../../core/backend.js';
import { proxyReloadsTotal } from '../../ops/metrics.js';
import type { Config } from '../../core/config.js';
import { UserError, dockerStatus } from '../../core/errors.js';
import type { BuildRequest, CommandResult, PortSpec, RunSpec } from '../../core/types.js';
import { buildImage } from './build.js';
import {
  createReplica,
  removeContainer,
  replicaCreateOptions,
  startContainer,
  stopContainer,
} from './containers.js';
import { ensureImage, ensureProxyImage } from './images.js';
import {
  type ReplicaState,
  listReplicas,
  recordsFromContainers,
  serviceViews,
} from './inventory.js';
import { LABEL, isOwned } from './labels.js';
import { ServiceLocks } from './lock.js';
import { ensureNetwork, removeNetwork } from './network.js';
import { Proxy, type ProxyService } from './proxy.js';
import { type ServiceRecord, StateStore, naturalOrder, replicaName } from './store.js';

/** How many containers the engine is asked to create or start at once. */
const PARALLEL = 4;

/** Runs `fn` over `items`, at most `limit` at once, and lets every call settle before failing. */
async function eachLimited<T, R>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const pool = pLimit(limit);
  const results = await Promise.allSettled(items.map((item) => pool(() => fn(item))));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<R>).value);
}

/** Hooks recovery can use to keep crash-looping replicas out of the way. */
export interface RecoveryPolicy {
  /** False when the replica must not be restarted now (crash-looping, or backing off). */
  mayRestart(container: string, service: string): Promise<boolean>;
  /** Tells the policy that recovery restarted the replica. */
  restarted(container: string, service: string): Promise<void>;
  /** Tells the policy that restarting the replica failed; recovery goes on with the others. */
  failed(container: string, service: string, err: unknown): Promise<void>;
  /** Replicas marked crash-looping, for `list`. */
  crashLooping(): Promise<Set<string>>;
  /** `start` clears any crash-loop mark of these replicas. */
  clear(containers: string[]): Promise<void>;
}

/** Carries commands out against one Docker engine, with an nginx proxy in front of replicas. */
export class DockerBackend implements Backend {
  readonly store: StateStore;
  readonly proxy: Proxy;
  private readonly locks: ServiceLocks;
  policy?: RecoveryPolicy;
  private proxyImageReady?: Promise<void>;

  constructor(
    readonly docker: Dockerode,
    private readonly redis: Redis,
    readonly config: Config,
    private readonly log: Logger,
  ) {
    const prefix = `deckhand:${config.DECKHAND_INSTANCE}`;
    this.store = new StateStore(redis, prefix);
    this.locks = new ServiceLocks(redis, prefix);
    this.proxy = new Proxy(docker, config, log.child({ component: 'proxy' }));
  }

  async build(request: BuildRequest, ctx: OperationContext): Promise<CommandResult> {
    return buildImage(this.docker, this.config, request, {
      ...ctx,
      reserveName: async (name) => {
        // A retried job keeps the name it reserved the first time.
        const mine = await this.store.plan(`${ctx.jobId}:image:${name}`, async () =>
          this.store.reserve('image', name),
        );
        return mine;
      },
    });
  }

  async run(spec: RunSpec, ctx: OperationContext): Promise<CommandResult> {
    await this.records();
    const name = await this.store.plan(`${ctx.jobId}:name`, () => this.pickServiceName(spec.name));
    // A run that fails gives its name back at once, so the user can try again with it.
    return this.locks
      .with([name], () => this.runAs(name, spec, ctx))
      .catch(async (err: unknown) => {
        if (!(await this.store.get(name))) await this.store.release('service', name);
        throw err;
      });
  }

  private async runAs(name: string, spec: RunSpec, ctx: OperationContext): Promise<CommandResult> {
    const existing = await this.store.get(name);
    if (existing && !(await this.createdBy(name, ctx.jobId))) {
      throw new UserError(
        `a service named ${name} already exists; pick another --name or scale it`,
        { service: name },
      );
    }
    await this.checkContainerCap(1);

    ctx.progress(`checking image ${spec.image}`);
    // The image comes first: a missing one must leave everything, the proxy included, unchanged.
    await ensureImage(this.docker, spec.image, {
      timeoutMs: this.config.PULL_TIMEOUT_MS,
      progress: ctx.progress,
      log: ctx.log,
    });
    const [, ports] = await Promise.all([
      this.ensureInfrastructure(ctx),
      this.store.plan(`${ctx.jobId}:ports`, () => this.assignPorts(spec.ports, name)),
    ]);
    const record: ServiceRecord = {
      name,
      spec: { ...spec, name, ports },
      replicas: [1],
      desired: 'running',
      held: [],
      createdAt: new Date().toISOString(),
    };
    await this.store.put(record);
    try {
      await this.launchReplica(record, 1, ctx);
      await this.refreshProxy();
    } catch (err) {
      await this.removeService(record, ctx);
      throw err;
    }
    ctx.log.info(
      { service: name, image: spec.image, ports: this.portText(ports) },
      'service started',
    );
    const published = this.portText(ports);
    return {
      summary: `Started ${name} from ${spec.image}`,
      details: published.length ? [`published through the proxy: ${published.join(', ')}`] : [],
    };
  }

  async scale(
    name: string,
    direction: 'up' | 'down',
    count: number,
    ctx: OperationContext,
  ): Promise<CommandResult> {
    await this.records();
    return this.locks.with([name], async () => {
      const record = await this.requireService(name);
      if (record.desired === 'stopped') {
        throw new UserError(`${name} is stopped; start it before scaling`, { service: name });
      }
      return direction === 'up'
        ? this.scaleUp(record, count, ctx)
        : this.scaleDown(record, count, ctx);
    });
  }

  private async scaleUp(
    record: ServiceRecord,
    count: number,
    ctx: OperationContext,
  ): Promise<CommandResult> {
    const plan = await this.store.plan(`${ctx.jobId}:scale`, async () => {
      const target = record.replicas.length + count;
      if (target > this.config.MAX_REPLICAS) {
        throw new UserError(
          `${record.name} has ${record.replicas.length} replicas; ${count} more would exceed the cap of ${this.config.MAX_REPLICAS}`,
          { service: record.name },
        );
      }
      await this.checkContainerCap(count);
      return { before: record.replicas, add: await this.freeReplicaNumbers(record, count) };
    });
    const added = plan.add.filter((n) => !record.replicas.includes(n));
    const updated: ServiceRecord = {
      ...record,
      replicas: [...new Set([...record.replicas, ...plan.add])].sort((a, b) => a - b),
    };
    await this.store.put(updated);

    try {
      await this.ensureInfrastructure(ctx);
      let done = 0;
      await eachLimited(plan.add, PARALLEL, async (n) => {
        await this.launchReplica(updated, n, ctx, added.includes(n));
        ctx.progress(
          `replica ${++done}/${plan.add.length} running: ${replicaName(record.name, n)}`,
        );
      });
      await this.refreshProxy();
    } catch (err) {
      ctx.log.warn(
        { service: record.name, err },
        'scale up failed; removing the replicas it added',
      );
      const restored: ServiceRecord = { ...updated, replicas: plan.before };
      await this.store.put(restored);
      await eachLimited(added, PARALLEL, (n) =>
        removeContainer(this.docker, replicaName(record.name, n), ctx.log),
      );
      await this.refreshProxy().catch((e) =>
        ctx.log.error({ err: e }, 'proxy refresh after rollback failed'),
      );
      throw err;
    }
    ctx.log.info({ service: record.name, replicas: updated.replicas.length }, 'service scaled up');
    return { summary: `${record.name} scaled up to ${updated.replicas.length} replicas` };
  }

  private async scaleDown(
    record: ServiceRecord,
    count: number,
    ctx: OperationContext,
  ): Promise<CommandResult> {
    const plan = await this.store.plan(`${ctx.jobId}:scale`, async () => {
      if (record.replicas.length - count < 1) {
        throw new UserError(
          `${record.name} has ${record.replicas.length} replica${record.replicas.length === 1 ? '' : 's'}; ` +
            `scale down leaves at least 1 (use stop ${record.name} to stop them all)`,
          { service: record.name },
        );
      }
      return { remove: [...record.replicas].sort((a, b) => b - a).slice(0, count) };
    });
    const updated: ServiceRecord = {
      ...record,
      replicas: record.replicas.filter((n) => !plan.remove.includes(n)),
      held: record.held.filter((n) => !plan.remove.includes(n)),
    };
    // Intent first, then the proxy stops sending new connections, then the containers go.
    await this.store.put(updated);
    await this.refreshProxy();
    await eachLimited(plan.remove, PARALLEL, async (n) => {
      const name = replicaName(record.name, n);
      await stopContainer(this.docker, name, this.config.STOP_TIMEOUT_S);
      await removeContainer(this.docker, name, ctx.log);
      ctx.progress(`removed ${name}`);
    });
    ctx.log.info(
      { service: record.name, replicas: updated.replicas.length },
      'service scaled down',
    );
    return {
      summary: `${record.name} scaled down to ${updated.replicas.length} replica${updated.replicas.length === 1 ? '' : 's'}`,
    };
  }

  async stop(name: string, ctx: OperationContext): Promise<CommandResult> {
    return this.withTarget(name, async ({ record, replica, targets, running }) => {
      const alreadyIntended =
        record.desired === 'stopped' || (replica !== undefined && record.held.includes(replica));
      if (alreadyIntended && !targets.some(running))
        return { summary: `${name} is already stopped` };

      const updated: ServiceRecord =
        replica === undefined
          ? { ...record, desired: 'stopped' }
          : { ...record, held: [...new Set([...record.held, replica])] };
      await this.store.put(updated);
      await this.refreshProxy();
      await eachLimited(targets, PARALLEL, (n) =>
        stopContainer(this.docker, replicaName(record.name, n), this.config.STOP_TIMEOUT_S),
      );
      ctx.log.info(
        { service: record.name, container: replica === undefined ? undefined : name },
        'stopped; recovery will leave it alone',
      );
      return { summary: `Stopped ${name}; recovery will leave it alone until start ${name}` };
    });
  }

  async start(name: string, ctx: OperationContext): Promise<CommandResult> {
    return this.withTarget(name, async ({ record, replica, targets, running }) => {
      const notRunning = targets.filter((n) => !running(n));
      const intended =
        record.desired === 'running' && targets.every((n) => !record.held.includes(n));
      await this.policy?.clear(targets.map((n) => replicaName(record.name, n)));
      if (intended && notRunning.length === 0) return { summary: `${name} is already running` };

      const updated: ServiceRecord = {
        ...record,
        desired: 'running',
        held: record.held.filter((n) => !targets.includes(n)),
      };
      if (replica !== undefined && record.desired === 'stopped') {
        // Starting one replica of a stopped service protects that one and holds the others.
        updated.held = record.replicas.filter((n) => n !== replica);
      }
      await this.store.put(updated);
      await this.ensureInfrastructure(ctx);
      await eachLimited(notRunning, PARALLEL, (n) => this.launchReplica(updated, n, ctx));
      await this.refreshProxy();
      ctx.log.info(
        { service: record.name, container: replica === undefined ? undefined : name },
        'started; protected by recovery again',
      );
      return { summary: `Started ${name}; recovery protects it again` };
    });
  }

  /** Runs `fn` under the service's lock, with its record and the replicas NAME stands for. */
  private async withTarget<T>(
    name: string,
    fn: (target: {
      record: ServiceRecord;
      replica?: number;
      targets: number[];
      running: (n: number) => boolean;
    }) => Promise<T>,
  ): Promise<T> {
    await this.records();
    const { service, replica } = await this.resolveTarget(name);
    return this.locks.with([service], async () => {
      const record = await this.requireService(service);
      const live = await this.replicasOf(service);
      const targets = replica === undefined ? record.replicas : [replica];
      return fn({
        record,
        replica,
        targets,
        running: (n) => !!live.find((r) => r.replica === n)?.running,
      });
    });
  }

  async list(_ctx: OperationContext): Promise<CommandResult> {
    const records = await this.records();
    const live = await listReplicas(
      this.docker,
      this.config.DECKHAND_INSTANCE,
      this.config.network,
    );
    const services = serviceViews(
      records,
      live,
      this.config.PUBLISH_HOST_IP,
      await this.policy?.crashLooping(),
    );
    return {
      summary: services.length
        ? `${services.length} service${services.length === 1 ? '' : 's'}`
        : 'Nothing is running: no services yet',
      services,
    };
  }

  async recover(ctx: OperationContext, only?: string): Promise<CommandResult> {
    const records = (await this.records()).filter((r) => !only || r.name === only);
    const details: string[] = [];
    for (const record of records) {
      if (record.desired !== 'running') continue;
      const outcome = await this.locks.ifFree(record.name, () =>
        this.recoverService(record.name, ctx),
      );
      if (outcome === undefined)
        ctx.log.debug({ service: record.name }, 'recovery skipped: a command holds the service');
      else details.push(...outcome);
    }
    // A restarted replica may be back on its old address: reload anyway, so nginx stops skipping it.
    if (details.length) await this.refreshProxy({ force: true });
    else
      await this.refreshProxy().catch((err) =>
        ctx.log.warn({ err }, 'proxy refresh during recovery failed'),
      );
    return {
      summary: details.length
        ? `Recovered ${details.length} container${details.length === 1 ? '' : 's'}`
        : 'Nothing to recover: everything that should run is running',
      details,
    };
  }

  private async recoverService(service: string, ctx: OperationContext): Promise<string[]> {
    const record = await this.store.get(service);
    if (!record || record.desired !== 'running') return [];
    const live = await this.replicasOf(service);
    const fixed: string[] = [];
    for (const n of record.replicas) {
      if (record.held.includes(n)) continue;
      const name = replicaName(service, n);
      const state = live.find((r) => r.replica === n);
      if (state?.running) continue;
      if (this.policy && !(await this.policy.mayRestart(name, service))) continue;
      try {
        await this.launchReplica(record, n, ctx);
      } catch (err) {
        // Without a policy the caller hears of it; with one, it is told and the other replicas still come back.
        if (!this.policy) throw err;
        ctx.log.warn({ service, container: name, err }, 'recovery could not restart replica');
        await this.policy.failed(name, service, err);
        continue;
      }
      await this.policy?.restarted(name, service);
      fixed.push(
        state
          ? `restarted ${name} (was ${state.state})`
          : `re-created ${name} (its container was gone)`,
      );
      ctx.log.info(
        { service, container: name, was: state?.state ?? 'missing' },
        'recovered replica',
      );
    }
    return fixed;
  }

  async quit(ctx: OperationContext): Promise<CommandResult> {
    const records = await this.records();
    return this.locks.with(
      records.map((r) => r.name),
      async () => {
        // Protection goes first, so recovery does not bring back what is being removed.
        await this.store.replaceAll([]);
        const live = await listReplicas(
          this.docker,
          this.config.DECKHAND_INSTANCE,
          this.config.network,
        );
        await eachLimited(live, PARALLEL, (r) => removeContainer(this.docker, r.name, ctx.log));
        ctx.progress(`removed ${live.length} container${live.length === 1 ? '' : 's'}`);
        const hadProxy = await this.proxyExists();
        await this.proxy.remove();
        const networkRemoved = await removeNetwork(
          this.docker,
          this.config.network,
          this.config.DECKHAND_INSTANCE,
          ctx.log,
        );
        if (live.length === 0 && records.length === 0 && !hadProxy && !networkRemoved) {
          return { summary: 'Nothing to remove: Deckhand manages no containers here' };
        }
        ctx.log.info(
          { containers: live.length, services: records.length },
          'quit: everything Deckhand made is removed',
        );
        return {
          summary: `Removed ${live.length} container${live.length === 1 ? '' : 's'} of ${records.length} service${records.length === 1 ? '' : 's'}, the proxy and the network`,
        };
      },
    );
  }

  async close(): Promise<void> {
    // Connections belong to whoever built this backend.
  }

  /** Desired state, rebuilt from the containers' labels when Redis has lost it. */
  async records(): Promise<ServiceRecord[]> {
    if (!(await this.store.isInitialised())) {
      const live = await listReplicas(
        this.docker,
        this.config.DECKHAND_INSTANCE,
        this.config.network,
      );
      const rebuilt = recordsFromContainers(live);
      await this.store.replaceAll(rebuilt);
      const level = rebuilt.length ? 'info' : 'debug';
      this.log[level](
        { services: rebuilt.map((r) => r.name) },
        'desired state was missing from Redis; rebuilt it from container labels',
      );
    }
    return this.store.all();
  }

  /** Renders the proxy from records and live containers; a no-op when nothing changed. */
  async refreshProxy(options: { force?: boolean } = {}): Promise<void> {
    const records = await this.store.all();
    const published = records.filter((r) => r.spec.ports.length > 0);
    if (published.length === 0 && !(await this.proxyExists())) return;
    const live = await listReplicas(
      this.docker,
      this.config.DECKHAND_INSTANCE,
      this.config.network,
    );
    const services: ProxyService[] = published.map((r) => ({
      name: r.name,
      ports: r.spec.ports.map((p) => ({
        hostIp: p.hostIp ?? this.config.PUBLISH_HOST_IP,
        hostPort: p.hostPort!,
        containerPort: p.containerPort,
        protocol: p.protocol,
      })),
      backends: r.desired === 'running' ? this.backendsOf(r, live) : [],
    }));
    await this.ensureProxy();
    try {
      const { changed } = await this.proxy.apply(services, options);
      if (changed) proxyReloadsTotal.inc({ outcome: 'ok' });
    } catch (err) {
      proxyReloadsTotal.inc({ outcome: 'failed' });
      throw err;
    }
  }

  /** Makes sure the proxy image exists (built from BASE_IMAGE when no registry has it) and the proxy runs. */
  private async ensureProxy(): Promise<void> {
    this.proxyImageReady ??= ensureProxyImage(this.docker, this.config, this.log).catch((err) => {
      this.proxyImageReady = undefined;
      throw err;
    });
    await this.proxyImageReady;
    await this.proxy.ensure();
  }

  private backendsOf(record: ServiceRecord, live: ReplicaState[]): string[] {
    return record.replicas
      .filter((n) => !record.held.includes(n))
      .map((n) => live.find((r) => r.name === replicaName(record.name, n)))
      .filter((r): r is ReplicaState => !!r?.running && !!r.ip)
      .map((r) => r.ip!);
  }

  /** The container's inspect, or undefined when there is none (404); other engine errors throw. */
  private async inspect(name: string): Promise<Dockerode.ContainerInspectInfo | undefined> {
    try {
      return await this.docker.getContainer(name).inspect();
    } catch (err) {
      if (dockerStatus(err) === 404) return undefined;
      throw err;
    }
  }

  private async proxyExists(): Promise<boolean> {
    return (await this.inspect(this.config.proxyName)) !== undefined;
  }

  private async ensureInfrastructure(ctx: OperationContext): Promise<void> {
    await ensureNetwork(this.docker, this.config.network, this.config.DECKHAND_INSTANCE, ctx.log);
  }

  /** Creates (or re-creates) and starts one replica from the service's spec. */
  private async launchReplica(
    record: ServiceRecord,
    n: number,
    ctx: OperationContext,
    fresh = false,
  ): Promise<void> {
    const name = replicaName(record.name, n);
    // A fresh replica number was just checked free; a stale container there is replaced on conflict.
    const inspect = fresh ? undefined : await this.inspect(name);
    if (!inspect || inspect.Config.Labels?.[LABEL.service] !== record.name) {
      await createReplica(
        this.docker,
        replicaCreateOptions(record.name, n, record.spec, this.config, ctx.jobId),
        this.config,
        ctx.log,
      );
    }
    await startContainer(this.docker, name);
  }

  private async removeService(record: ServiceRecord, ctx: OperationContext): Promise<void> {
    await this.store.delete(record.name);
    await eachLimited(record.replicas, PARALLEL, (n) =>
      removeContainer(this.docker, replicaName(record.name, n), ctx.log),
    );
    await this.refreshProxy().catch((err) =>
      ctx.log.error({ err }, 'proxy refresh after rollback failed'),
    );
  }

  private async createdBy(service: string, jobId: string): Promise<boolean> {
    const info = await this.inspect(service);
    return info?.Config.Labels?.[LABEL.job] === jobId;
  }

  private async requireService(name: string): Promise<ServiceRecord> {
    const record = await this.store.get(name);
    if (!record) throw await this.unknownName(name);
    return record;
  }

  /** Accepts a service name, or the container name of one of its replicas. */
  private async resolveTarget(name: string): Promise<{ service: string; replica?: number }> {
    if (await this.store.get(name)) return { service: name };
    // worker1-r2 names replica 2; worker1-r1 names replica 1 alone, whose container is worker1.
    const m = /^(.+)-r(\d+)$/.exec(name);
    if (m) {
      const record = await this.store.get(m[1]!);
      if (record?.replicas.includes(Number(m[2]))) return { service: m[1]!, replica: Number(m[2]) };
    }
    throw await this.unknownName(name);
  }

  private async unknownName(name: string): Promise<UserError> {
    const exists = (await this.inspect(name)) !== undefined;
    const known = (await this.store.all()).map((r) => r.name);
    if (exists)
      return new UserError(
        `${name} is not a container Deckhand made; Deckhand only manages its own`,
        { container: name },
      );
    return new UserError(
      `no service named ${name}${known.length ? ` (services: ${known.join(', ')})` : ' (there are no services yet)'}`,
      { service: name },
    );
  }

  private async replicasOf(service: string): Promise<ReplicaState[]> {
    const all = await listReplicas(this.docker, this.config.DECKHAND_INSTANCE, this.config.network);
    return all.filter((r) => r.service === service);
  }

  private async pickServiceName(requested: string | undefined): Promise<string> {
    if (requested) {
      if (await this.store.get(requested)) {
        throw new UserError(
          `a service named ${requested} already exists; pick another --name or scale it`,
          { service: requested },
        );
      }
      const clash = (await this.inspect(requested)) !== undefined;
      if (clash)
        throw new UserError(
          `a container named ${requested} already exists that Deckhand does not manage as a service`,
          { container: requested },
        );
      if (!(await this.store.reserve('service', requested, 600))) {
        throw new UserError(`another command is creating a service named ${requested} right now`, {
          service: requested,
        });
      }
      return requested;
    }
    const containers = await this.docker.listContainers({ all: true });
    const used = new Set<number>();
    for (const c of containers) {
      for (const n of c.Names) {
        const m = /^\/worker(\d+)(?:-r\d+)?$/.exec(n);
        if (m) used.add(Number(m[1]));
      }
    }
    for (const r of await this.store.all()) {
      const m = /^worker(\d+)$/.exec(r.name);
      if (m) used.add(Number(m[1]));
    }
    for (let i = 1; ; i++) {
      if (!used.has(i) && (await this.store.reserve('service', `worker${i}`, 600)))
        return `worker${i}`;
    }
  }

  /** Picks replica numbers whose container names are free (a foreign container keeps its name). */
  private async freeReplicaNumbers(record: ServiceRecord, count: number): Promise<number[]> {
    const picked: number[] = [];
    for (let n = 2; picked.length < count; n++) {
      if (record.replicas.includes(n)) continue;
      const info = await this.inspect(replicaName(record.name, n));
      const foreign =
        info &&
        (!isOwned(info.Config.Labels, this.config.DECKHAND_INSTANCE) ||
          info.Config.Labels?.[LABEL.service] !== record.name);
      if (!foreign) picked.push(n);
    }
    return picked;
  }

  private async checkContainerCap(adding: number): Promise<void> {
    const live = await listReplicas(
      this.docker,
      this.config.DECKHAND_INSTANCE,
      this.config.network,
    );
    if (live.length + adding > this.config.MAX_CONTAINERS) {
      throw new UserError(
        `Deckhand manages ${live.length} containers; ${adding} more would exceed MAX_CONTAINERS=${this.config.MAX_CONTAINERS}`,
      );
    }
  }

  /** Gives every published port a host port: the one asked for if free, else one from the range. */
  private async assignPorts(ports: PortSpec[], service: string): Promise<PortSpec[]> {
    if (ports.length === 0) return [];
    await this.ensureProxy();
    // A host port is taken per protocol: 53/tcp and 53/udp are two different sockets.
    const taken = new Map<string, string>();
    const key = (port: number, protocol: string) => `${port}/${protocol}`;
    for (const r of await this.store.all()) {
      for (const p of r.spec.ports) if (p.hostPort) taken.set(key(p.hostPort, p.protocol), r.name);
    }
    const assigned: PortSpec[] = [];
    for (const p of ports) {
      if (p.hostPort !== undefined) {
        const owner = taken.get(key(p.hostPort, p.protocol));
        if (owner)
          throw new UserError(
            `host port ${p.hostPort}/${p.protocol} is already published by ${owner}`,
            {
              service,
            },
          );
        if (!(await this.proxy.isHostPortFree(p.hostPort, p.protocol))) {
          throw new UserError(
            `host port ${p.hostPort}/${p.protocol} is already in use on the host`,
            {
              service,
            },
          );
        }
        assigned.push(p);
      } else {
        const sameProtocol = [...taken.keys()].filter((k) => k.endsWith(`/${p.protocol}`));
        const port = await this.proxy.freeHostPort(
          this.config.PROXY_PORT_RANGE,
          new Set(sameProtocol.map((k) => Number(k.split('/')[0]))),
          p.protocol,
        );
        assigned.push({ ...p, hostPort: port });
      }
      taken.set(key(assigned.at(-1)!.hostPort!, p.protocol), service);
    }
    return assigned;
  }

  private portText(ports: PortSpec[]): string[] {
    return ports.map(
      (p) =>
        `${p.hostIp ?? this.config.PUBLISH_HOST_IP}:${p.hostPort}->${p.containerPort}/${p.protocol}`,
    );
  }
}

export { naturalOrder };
