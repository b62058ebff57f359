import readline from 'node:readline';
import { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import type { Logger } from 'pino';
import tar from 'tar-stream';
import type { Config } from '../../core/config.js';
import { dockerStatus, engineMessage, UserError } from '../../core/errors.js';
import { ownedLabels } from './labels.js';

/** One JSON record of the engine's pull, build or import stream. */
export interface EngineRecord {
  stream?: string;
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string; code?: number };
  aux?: { ID?: string };
}

/** How a fully read engine stream ended: every error record it held, in order. */
export interface EngineStreamOutcome {
  errors: string[];
}

/** Raised when an engine stream did not end within its bound; the stream has been destroyed. */
export class StreamTimeoutError extends Error {
  override readonly name = 'StreamTimeoutError';
}

/** Raised when an engine stream closed before its end, so its outcome is unknown. */
export class StreamTruncatedError extends Error {
  override readonly name = 'StreamTruncatedError';
}

/**
 * Reads an engine progress stream to its very end, handing every record to onRecord and collecting
 * every error record: the engine reports a failed pull or build inside the stream, not by status.
 */
export async function readEngineStream(
  stream: Readable,
  opts: { timeoutMs: number; onRecord?: (record: EngineRecord) => void },
): Promise<EngineStreamOutcome> {
  const errors: string[] = [];
  let ended = false;
  stream.once('end', () => {
    ended = true;
  });
  const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });

  // A destroyed socket emits 'close' without 'end'; readline would then wait forever.
  stream.once('close', () => {
    if (!ended) lines.close();
  });
  const timer = setTimeout(() => {
    stream.destroy(new StreamTimeoutError(`no end within ${Math.round(opts.timeoutMs / 1000)}s`));
  }, opts.timeoutMs);

  try {
    for await (const line of lines) {
      if (line.trim() === '') continue;
      const record = parseRecord(line);
      const failure = record.errorDetail?.message ?? record.error;
      if (failure) errors.push(failure.trim());
      opts.onRecord?.(record);
    }
  } finally {
    clearTimeout(timer);
  }

  if (!ended) throw new StreamTruncatedError('the engine closed the stream before its end');
  return { errors };
}

function parseRecord(line: string): EngineRecord {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? (value as EngineRecord) : { stream: line };
  } catch {
    return { stream: line };
  }
}

/** Options shared by every pull. */
export interface PullOptions {
  timeoutMs: number;
  progress?: (line: string) => void;
  log: Logger;
}

/**
 * Pulls an image and resolves only once the pull has ended with no error record in it;
 * anything else is a UserError naming the image and the engine's own reason.
 */
export async function pullImage(docker: Dockerode, ref: string, opts: PullOptions): Promise<void> {
  const started = Date.now();
  const refuse = (reason: string) =>
    new UserError(`image ${ref} is not available locally and could not be pulled: ${reason}`, {
      image: ref,
    });
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), opts.timeoutMs);
  opts.log.info({ image: ref, timeoutMs: opts.timeoutMs }, 'pulling image');

  let stream: Readable;
  try {
    stream = (await docker.pull(ref, { abortSignal: abort.signal })) as Readable;
  } catch (err) {
    if (abort.signal.aborted) throw refuse(`no answer within ${seconds(opts.timeoutMs)}`);
    if (dockerStatus(err) === undefined) throw err;
    opts.log.warn({ image: ref, err: engineMessage(err) }, 'pull refused by the engine');
    throw refuse(engineMessage(err));
  } finally {
    clearTimeout(timer);
  }

  let outcome: EngineStreamOutcome;
  try {
    const left = Math.max(1, opts.timeoutMs - (Date.now() - started));
    outcome = await readEngineStream(stream, {
      timeoutMs: left,
      onRecord: pullLine(opts.progress),
    });
  } catch (err) {
    if (err instanceof StreamTimeoutError)
      throw refuse(`not finished within ${seconds(opts.timeoutMs)}`);
    if (err instanceof StreamTruncatedError) throw refuse(err.message);
    throw err;
  }

  if (outcome.errors.length > 0) {
    opts.log.warn({ image: ref, errors: outcome.errors }, 'pull failed inside the stream');
    throw refuse(outcome.errors.join('; '));
  }
  opts.log.info({ image: ref, ms: Date.now() - started }, 'pulled image');
}

function pullLine(progress?: (line: string) => void): (record: EngineRecord) => void {
  return (record) => {
    // Byte counters arrive many times a second per layer; the user only needs the milestones.
    if (!progress || !record.status || record.progressDetail?.current !== undefined) return;
    progress(record.id ? `${record.id}: ${record.status}` : record.status);
  };
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)}s`;
}

/** True when the engine holds an image under this reference. */
export async function imageExists(docker: Dockerode, ref: string): Promise<boolean> {
  try {
    await docker.getImage(ref).inspect();
    return true;
  } catch (err) {
    if (dockerStatus(err) === 404) return false;
    throw err;
  }
}

/** Makes sure an image is present locally, pulling it (bounded, checked) only when it is missing. */
export async function ensureImage(
  docker: Dockerode,
  ref: string,
  opts: PullOptions,
): Promise<void> {
  if (await imageExists(docker, ref)) return;
  await pullImage(docker, ref, opts);
}

const IMAGE_NAME = /^image_(\d{1,9})$/;

/**
 * Picks the next free `image_N`: above every `image_N` tag the engine holds, whoever made it,
 * and only a name `reserve` grants, so two builds running at once never share one.
 * Names are engine-wide, so `instance` does not narrow the search; it is named in the error only.
 */
export async function nextImageName(
  docker: Dockerode,
  instance: string,
  reserve: (name: string) => Promise<boolean>,
): Promise<string> {
  const taken = new Set<number>();
  for (const image of await docker.listImages({ all: false })) {
    for (const tag of image.RepoTags ?? []) {
      const match = IMAGE_NAME.exec(tag.slice(0, tag.lastIndexOf(':')));
      if (match) taken.add(Number(match[1]));
    }
  }

  let n = Math.max(0, ...taken) + 1;
  for (let attempt = 0; attempt < 1000; attempt += 1, n += 1) {
    if (taken.has(n)) continue;
    if (await reserve(`image_${n}`)) return `image_${n}`;
  }
  throw new Error(`no free image name found for instance ${instance} after 1000 reservations`);
}

/** Marks Deckhand's own proxy image among its images. */
export const PROXY_IMAGE_LABEL = 'deckhand.proxy-image';

/** Builds the configuration that makes the proxy image: Debian's nginx with the stream module. */
export function proxyDockerfile(baseImage: string): string {
  return [
    `FROM ${checkedBaseImage(baseImage)}`,
    'RUN apt-get update -q \\',
    ' && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \\',
    '      nginx libnginx-mod-stream procps \\',
    ' && apt-get clean && rm -rf /var/lib/apt/lists/* \\',
    ' && rm -f /etc/nginx/sites-enabled/default \\',
    ' && ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log \\',
    // Proves at build time that the stream module loads the way Debian enables it.
    " && printf 'include /etc/nginx/modules-enabled/*.conf;\\nevents {}\\nstream {}\\n' > /tmp/check.conf \\",
    ' && nginx -t -c /tmp/check.conf && rm /tmp/check.conf',
    // nginx finishes open connections on SIGQUIT; SIGTERM would cut them.
    'STOPSIGNAL SIGQUIT',
    `CMD ["nginx", "-g", "daemon off;"]`,
    '',
  ].join('\n');
}

/** Refuses a base image reference that could smuggle extra Dockerfile lines in. */
export function checkedBaseImage(ref: string): string {
  if (!/^[a-z0-9][a-z0-9._\/:@-]{0,254}$/i.test(ref)) {
    throw new Error(`BASE_IMAGE ${JSON.stringify(ref)} is not an image reference`);
  }
  return ref;
}

/** Packs a Dockerfile, and any small text files it copies, into a build context. */
export function dockerfileContext(
  dockerfile: string,
  files: Record<string, string> = {},
): Readable {
  const context = tar.pack();
  context.entry({ name: 'Dockerfile', mode: 0o644 }, dockerfile);
  for (const [name, text] of Object.entries(files)) context.entry({ name, mode: 0o644 }, text);
  context.finalize();
  return asNodeStream(context);
}

/** tar-stream packs are streamx streams; the engine client wants a plain Node stream. */
export function asNodeStream(packed: tar.Pack): Readable {
  return Readable.from(packed);
}

/**
 * Makes sure the proxy image exists: present locally, else pulled once, else built here from
 * BASE_IMAGE with Debian's nginx and its stream module.
 */
export async function ensureProxyImage(
  docker: Dockerode,
  config: Config,
  log: Logger,
): Promise<void> {
  const ref = config.PROXY_IMAGE;
  if (await imageExists(docker, ref)) return;

  try {
    await pullImage(docker, ref, { timeoutMs: Math.min(config.PULL_TIMEOUT_MS, 30_000), log });
    return;
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    log.info({ image: ref }, 'proxy image not pullable, building it locally');
  }

  await ensureImage(docker, config.BASE_IMAGE, { timeoutMs: config.PULL_TIMEOUT_MS, log });
  const started = Date.now();
  const labels = ownedLabels(config.DECKHAND_INSTANCE, 'image', { [PROXY_IMAGE_LABEL]: '1' });
  const stream = (await docker.buildImage(dockerfileContext(proxyDockerfile(config.BASE_IMAGE)), {
    t: ref,
    forcerm: true,
    rm: true,
    labels,
  })) as Readable;
  const tail: string[] = [];
  const keepTail = (record: EngineRecord) => {
    const line = record.stream?.trim();
    if (line) tail.push(line);
    if (tail.length > 20) tail.shift();
  };
  const outcome = await readEngineStream(stream, {
    timeoutMs: config.BUILD_TIMEOUT_MS,
    onRecord: keepTail,
  });
  if (outcome.errors.length > 0) {
    log.error({ image: ref, errors: outcome.errors, output: tail }, 'proxy image build failed');
    throw new Error(`building the proxy image ${ref} failed: ${outcome.errors.join('; ')}`);
  }
  log.info({ image: ref, ms: Date.now() - started }, 'built proxy image');
}
