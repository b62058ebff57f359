import type Dockerode from 'dockerode';
import type { Logger } from 'pino';
import { EngineError, UserError, dockerStatus } from '../../core/errors.js';
import { isOwned, ownedLabels } from './labels.js';

/** Makes sure Deckhand's bridge network exists and is ours; creates it when missing. */
export async function ensureNetwork(
  docker: Dockerode,
  name: string,
  instance: string,
  log: Logger,
): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const info = await docker.getNetwork(name).inspect();
      if (!isOwned(info.Labels, instance)) {
        throw new UserError(
          `a network named ${name} exists that Deckhand did not create; remove it or set DECKHAND_NETWORK`,
        );
      }
      return;
    } catch (err) {
      if (dockerStatus(err) !== 404) throw err;
    }
    try {
      await docker.createNetwork({
        Name: name,
        Driver: 'bridge',
        CheckDuplicate: true,
        Labels: ownedLabels(instance, 'network'),
      });
      log.info({ network: name }, 'network created');
      return;
    } catch (err) {
      // 409: another worker created it between our inspect and create; inspect again.
      if (dockerStatus(err) !== 409)
        throw new EngineError(
          'could not create the network',
          { action: 'network.create', statusCode: dockerStatus(err) },
          { cause: err },
        );
    }
  }
}

/** Removes Deckhand's network; true when it was removed, false when there was none. */
export async function removeNetwork(
  docker: Dockerode,
  name: string,
  instance: string,
  log: Logger,
): Promise<boolean> {
  try {
    const info = await docker.getNetwork(name).inspect();
    if (!isOwned(info.Labels, instance)) return false;
    const attached = Object.values(info.Containers ?? {}).map((c) => c.Name);
    if (attached.length) {
      throw new UserError(
        `the network ${name} still has containers Deckhand did not make attached: ${attached.join(', ')}; disconnect or remove them, then quit again`,
      );
    }
    await docker.getNetwork(name).remove();
    log.info({ network: name }, 'network removed');
    return true;
  } catch (err) {
    if (err instanceof UserError) throw err;
    if (dockerStatus(err) === 404) return false;
    throw new EngineError(
      `could not remove the network ${name}`,
      { action: 'network.remove', statusCode: dockerStatus(err) },
      { cause: err },
    );
  }
}
