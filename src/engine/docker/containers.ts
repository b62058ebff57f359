import type Dockerode from 'dockerode';
import type { Logger } from 'pino';
import type { Config } from '../../core/config.js';
import { parseMemory } from '../../commands/resources.js';
import { EngineError, UserError, dockerStatus, engineMessage } from '../../core/errors.js';
import type { RunSpec } from '../../core/types.js';
import { LABEL, isOwned, ownedLabels } from './labels.js';
import { replicaName } from './store.js';

/** Checks the spec's resource requests against the configured maxima and fills in the defaults. */
export function resourceLimits(
  spec: RunSpec,
  config: Config,
): { Memory: number; NanoCpus: number; PidsLimit: number } {
  const maxMemory = parseMemory(config.MAX_MEMORY);
  const maxNano = Math.round(config.MAX_CPUS * 1e9);
  if (spec.memoryBytes !== undefined && spec.memoryBytes > maxMemory) {
    throw new UserError(
      `--memory ${spec.memoryBytes} bytes is above the allowed maximum ${config.MAX_MEMORY}`,
    );
  }
  if (spec.nanoCpus !== undefined && spec.nanoCpus > maxNano) {
    throw new UserError(
      `--cpus ${spec.nanoCpus / 1e9} is above the allowed maximum ${config.MAX_CPUS}`,
    );
  }
  return {
    Memory: spec.memoryBytes ?? parseMemory(config.DEFAULT_MEMORY),
    NanoCpus: spec.nanoCpus ?? Math.round(config.DEFAULT_CPUS * 1e9),
    PidsLimit: config.DEFAULT_PIDS_LIMIT,
  };
}

/** The engine's create request for one replica of a service. */
export function replicaCreateOptions(
  service: string,
  n: number,
  spec: RunSpec,
  config: Config,
  jobId: string,
): Dockerode.ContainerCreateOptions {
  const exposed = Object.fromEntries(
    spec.ports.map((p) => [`${p.containerPort}/${p.protocol}`, {}]),
  );
  return {
    name: replicaName(service, n),
    Image: spec.image,
    ...(spec.cmd ? { Cmd: spec.cmd } : {}),
    ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
    Env: spec.env,
    ...(spec.workdir ? { WorkingDir: spec.workdir } : {}),
    ...(spec.user ? { User: spec.user } : {}),
    ...(spec.hostname ? { Hostname: spec.hostname } : {}),
    Tty: spec.tty,
    OpenStdin: spec.interactive,
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    ExposedPorts: exposed,
    Labels: ownedLabels(config.DECKHAND_INSTANCE, 'replica', {
      ...spec.labels,
      [LABEL.service]: service,
      [LABEL.replica]: String(n),
      [LABEL.spec]: JSON.stringify(spec),
      [LABEL.job]: jobId,
    }),
    HostConfig: {
      // An init process makes sleep or nc stop on SIGTERM instead of waiting out the grace period.
      Init: true,
      NetworkMode: config.network,
      RestartPolicy: { Name: 'no' },
      ...resourceLimits(spec, config),
    },
  };
}

/** Creates a replica; a stale container of the same replica left by a crashed job is replaced. */
export async function createReplica(
  docker: Dockerode,
  options: Dockerode.ContainerCreateOptions,
  config: Config,
  log: Logger,
): Promise<Dockerode.Container> {
  const name = options.name!;
  try {
    return await docker.createContainer(options);
  } catch (err) {
    const status = dockerStatus(err);
    // 400: the engine refuses the request as given (an image without a command, say): the user's to fix.
    if (status === 400) {
      throw new UserError(`could not create ${name}: ${engineMessage(err)}`, {
        container: name,
        statusCode: status,
      });
    }
    if (status !== 409) throw engineError(err, 'container.create', name);
  }
  const existing = await docker.getContainer(name).inspect();
  const labels = existing.Config.Labels;
  const wanted = options.Labels ?? {};
  if (
    !isOwned(labels, config.DECKHAND_INSTANCE) ||
    labels[LABEL.service] !== wanted[LABEL.service] ||
    labels[LABEL.replica] !== wanted[LABEL.replica]
  ) {
    throw new UserError(
      `a container named ${name} already exists and is not this replica; Deckhand will not remove it`,
      { container: name },
    );
  }
  log.warn({ container: name }, 'replacing a stale replica left by an interrupted command');
  await removeContainer(docker, name, log);
  return docker.createContainer(options);
}

/** Starts a container; "already started" counts as success. */
export async function startContainer(
  docker: Dockerode,
  name: string,
): Promise<'started' | 'already running'> {
  try {
    await docker.getContainer(name).start();
    return 'started';
  } catch (err) {
    const status = dockerStatus(err);
    if (status === 304) return 'already running';
    // The engine refuses to start what the user asked for (no such executable, say): their error to read.
    if (status === 400 || status === 500) {
      throw new UserError(`could not start ${name}: ${engineMessage(err)}`, {
        container: name,
        statusCode: status,
      });
    }
    throw engineError(err, 'container.start', name);
  }
}

/** Stops a container; "already stopped" and "no such container" count as success. */
export async function stopContainer(
  docker: Dockerode,
  name: string,
  timeoutS: number,
): Promise<'stopped' | 'already stopped' | 'gone'> {
  try {
    await docker.getContainer(name).stop({ t: timeoutS });
    return 'stopped';
  } catch (err) {
    const status = dockerStatus(err);
    if (status === 304) return 'already stopped';
    if (status === 404) return 'gone';
    throw engineError(err, 'container.stop', name);
  }
}

/** Removes a container by force and waits until it is gone; already gone counts as success. */
export async function removeContainer(
  docker: Dockerode,
  name: string,
  log: Logger,
): Promise<boolean> {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      await docker.getContainer(name).remove({ force: true });
      log.debug({ container: name }, 'container removed');
      return true;
    } catch (err) {
      const status = dockerStatus(err);
      if (status === 404) return false;
      // 409: a removal is already in progress; wait for it to finish.
      if (status !== 409) throw engineError(err, 'container.remove', name);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new EngineError(`container ${name} is still being removed`, {
    action: 'container.remove',
    container: name,
    statusCode: 409,
  });
}

function engineError(err: unknown, action: string, container: string): Error {
  if (err instanceof UserError || err instanceof EngineError) return err;
  const status = dockerStatus(err);
  return new EngineError(
    `${action} failed for ${container}: ${engineMessage(err)}`,
    { action, container, statusCode: status },
    { cause: err },
  );
}
