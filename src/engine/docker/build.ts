import { constants as fsc } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Dockerode from 'dockerode';
import tar from 'tar-stream';
import type { OperationContext } from '../../core/backend.js';
import type { Config } from '../../core/config.js';
import { dockerStatus, UserError } from '../../core/errors.js';
import type { BuildRequest, CommandResult } from '../../core/types.js';
import {
  asNodeStream,
  checkedBaseImage,
  ensureImage,
  imageExists,
  nextImageName,
  readEngineStream,
  StreamTimeoutError,
  type EngineRecord,
} from './images.js';
import { LABEL, ownedLabels } from './labels.js';

/** Where a copied file lands in the image; it is also put on PATH, so `run image_1 script1` works. */
export const COPY_DESTINATION = '/opt/myimages';

/** Debian's package name grammar (policy 5.6.7): lower case, digits, + - . and at least two long. */
const PACKAGE = /^[a-z0-9][a-z0-9+.-]{1,99}$/;

/** A plain file name: no directory part, no leading dot or dash, nothing a shell or Dockerfile reads. */
const FILE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** The Debian package behind `build netcat`; bookworm's accepts `nc -l -p 80` and `nc -lk -p 80`. */
const NETCAT_PACKAGE = 'netcat-openbsd';

/** What buildImage needs besides the request: the job's context and the name reservation. */
export type BuildContext = OperationContext & { reserveName: (name: string) => Promise<boolean> };

/**
 * Builds an image for `build copy|install|both|netcat` from BASE_IMAGE, streaming the engine's steps
 * as progress, and names it image_N only once the engine reports the build finished with no error.
 */
export async function buildImage(
  docker: Dockerode,
  config: Config,
  request: BuildRequest,
  ctx: BuildContext,
): Promise<CommandResult> {
  const started = Date.now();
  const log = ctx.log.child({ jobId: ctx.jobId, command: 'build', variant: request.variant });
  checkRequest(request);
  const file =
    'file' in request ? await myimagesFile(config.MYIMAGES_DIR, request.file) : undefined;

  const base = checkedBaseImage(config.BASE_IMAGE);
  await ensureImage(docker, base, {
    timeoutMs: config.PULL_TIMEOUT_MS,
    progress: ctx.progress,
    log,
  });
  const name = await nextImageName(docker, config.DECKHAND_INSTANCE, ctx.reserveName);
  log.info({ image: name, base }, 'building image');
  ctx.progress(`Building ${name} from ${base}: ${describeRequest(request)}`);

  const labels = ownedLabels(config.DECKHAND_INSTANCE, 'image', {
    [LABEL.job]: ctx.jobId,
    'deckhand.build': describeRequest(request),
  });
  const id = await runBuild(docker, dockerfile(base, request), file, {
    labels,
    timeoutMs: config.BUILD_TIMEOUT_MS,
    progress: ctx.progress,
    log: log.child({ image: name }),
    signal: ctx.signal,
  });

  const tagged = await tagFresh(docker, id, name, config.DECKHAND_INSTANCE, ctx.reserveName);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  log.info({ image: tagged, imageId: id, ms: Date.now() - started }, 'built image');
  return {
    summary: `Built ${tagged}`,
    image: tagged,
    details: [
      `${describeRequest(request)} on ${base}`,
      `image id ${id.replace(/^sha256:/, '').slice(0, 12)}`,
      `took ${seconds}s`,
    ],
  };
}

/** Refuses, again and whoever parsed it, any request that would put a stray word into the Dockerfile. */
export function checkRequest(request: BuildRequest): void {
  if ('pkg' in request && !PACKAGE.test(request.pkg)) {
    throw new UserError(`${JSON.stringify(request.pkg)} is not a Debian package name`, {
      pkg: request.pkg,
    });
  }
  if ('file' in request && !FILE.test(request.file)) {
    throw new UserError(
      `${JSON.stringify(request.file)} is not a plain file name in myimages/ (letters, digits, . _ -)`,
      { file: request.file },
    );
  }
  if (
    request.variant === 'netcat' &&
    !(Number.isInteger(request.port) && request.port >= 1 && request.port <= 65535)
  ) {
    throw new UserError(`port ${String(request.port)} is not a port number (1-65535)`, {
      port: request.port,
    });
  }
}

function describeRequest(request: BuildRequest): string {
  switch (request.variant) {
    case 'copy':
      return `copy ${request.file}`;
    case 'install':
      return `install ${request.pkg}`;
    case 'both':
      return `install ${request.pkg}, copy ${request.file}`;
    case 'netcat':
      return `netcat on port ${request.port}`;
  }
}

/** A file from myimages/, resolved so that no symlink or path trick reaches outside it. */
interface SourceFile {
  name: string;
  realPath: string;
}

async function myimagesFile(dir: string, name: string): Promise<SourceFile> {
  const root = path.resolve(process.cwd(), dir);
  const realRoot = await realpath(root).catch(() => {
    throw new UserError(`the myimages directory ${root} does not exist`, { dir: root });
  });
  const missing = () => new UserError(`file ${name} is not in myimages/`, { file: name });

  const realPath = await realpath(path.join(realRoot, name)).catch(() => {
    throw missing();
  });
  if (path.dirname(realPath) !== realRoot) {
    throw new UserError(`file ${name} leads outside myimages/ and is refused`, { file: name });
  }
  if (!(await stat(realPath)).isFile()) {
    throw new UserError(`${name} in myimages/ is not a regular file`, { file: name });
  }
  return { name, realPath };
}

/** The Dockerfile for a request; every word in it has been checked against a strict grammar. */
export function dockerfile(base: string, request: BuildRequest): string {
  const lines = [`FROM ${checkedBaseImage(base)}`];
  if (request.variant === 'install' || request.variant === 'both')
    lines.push(aptInstall(request.pkg));
  if (request.variant === 'netcat')
    lines.push(aptInstall(NETCAT_PACKAGE), `EXPOSE ${request.port}`);
  if (request.variant === 'copy' || request.variant === 'both') {
    const to = `${COPY_DESTINATION}/${request.file}`;
    lines.push(`COPY ${JSON.stringify([`files/${request.file}`, to])}`);
    lines.push(
      `ENV PATH=${COPY_DESTINATION}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function aptInstall(pkg: string): string {
  return [
    'RUN apt-get update -q',
    `DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ${pkg}`,
    'apt-get clean && rm -rf /var/lib/apt/lists/*',
  ].join(' \\\n && ');
}

/** The build context: the Dockerfile and, under files/, the one named file; nothing else. */
async function buildContext(dockerfileText: string, file?: SourceFile): Promise<Readable> {
  const packed = tar.pack();
  packed.entry({ name: 'Dockerfile', mode: 0o644 }, dockerfileText);
  if (!file) {
    packed.finalize();
    return asNodeStream(packed);
  }

  const handle = await open(file.realPath, fsc.O_RDONLY | fsc.O_NOFOLLOW);
  const stat = await handle.stat();
  if (!stat.isFile()) {
    await handle.close();
    throw new UserError(`${file.name} in myimages/ is not a regular file`, { file: file.name });
  }
  // Owner-only or odd modes become readable; an executable stays executable.
  const mode = stat.mode & 0o111 ? 0o755 : 0o644;
  const entry = packed.entry({
    name: `files/${file.name}`,
    size: stat.size,
    mode,
    mtime: stat.mtime,
  });
  pipeline(handle.createReadStream(), entry)
    .then(() => packed.finalize())
    .catch((err: unknown) => packed.destroy(err as Error));
  return asNodeStream(packed);
}

interface BuildRun {
  labels: Record<string, string>;
  timeoutMs: number;
  progress: (line: string) => void;
  log: OperationContext['log'];
  /** The worker's shutdown signal: the build is cancelled in the engine, not left running. */
  signal?: AbortSignal;
}

/** Runs one engine build to its end and returns the image id; any error record fails it. */
async function runBuild(
  docker: Dockerode,
  dockerfileText: string,
  file: SourceFile | undefined,
  run: BuildRun,
): Promise<string> {
  const started = Date.now();
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), run.timeoutMs);
  let stream: Readable | undefined;
  const cancelled = () => {
    abort.abort();
    stream?.destroy();
  };
  run.signal?.addEventListener('abort', cancelled, { once: true });
  try {
    return await followBuild();
  } catch (err) {
    if (run.signal?.aborted) throw run.signal.reason;
    throw err;
  } finally {
    run.signal?.removeEventListener('abort', cancelled);
  }

  async function followBuild(): Promise<string> {
    const timedOut = () =>
      new UserError(
        `the build did not finish within ${Math.round(run.timeoutMs / 1000)}s and was stopped`,
      );

    try {
      const context = await buildContext(dockerfileText, file);
      stream = (await docker.buildImage(context, {
        forcerm: true,
        rm: true,
        labels: run.labels,
        abortSignal: abort.signal,
      } as Dockerode.ImageBuildOptions)) as Readable;
    } catch (err) {
      if (abort.signal.aborted) throw timedOut();
      throw err;
    } finally {
      clearTimeout(timer);
    }

    const output = new BuildOutput(run.progress);
    let errors: string[];
    try {
      const left = Math.max(1, run.timeoutMs - (Date.now() - started));
      ({ errors } = await readEngineStream(stream, {
        timeoutMs: left,
        onRecord: (r) => output.take(r),
      }));
      output.finish();
    } catch (err) {
      if (err instanceof StreamTimeoutError) throw timedOut();
      throw err;
    }

    if (errors.length > 0) {
      run.log.warn({ errors, output: output.tail }, 'build failed');
      throw new UserError(`build failed: ${output.reason(errors)}`, { errors });
    }
    if (!output.imageId)
      throw new Error('the engine ended the build without naming the image it made');
    return output.imageId;
  }
}

/** Follows a build's records: forwards steps and a sample of their output, keeps what a failure needs. */
class BuildOutput {
  readonly tail: string[] = [];
  imageId?: string;
  private partial = '';
  private lastSent = 0;

  constructor(private readonly progress: (line: string) => void) {}

  take(record: EngineRecord): void {
    if (record.aux?.ID) this.imageId = record.aux.ID;
    // The engine sends stderr in fragments, each wrapped in colour codes ("E", ": ", "Unable…\n"),
    // so lines are put together across records before anything reads them.
    const lines = (this.partial + stripVTControlCharacters(record.stream ?? '')).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.line(line);
  }

  /** Reads the last line when the stream ended without a newline. */
  finish(): void {
    if (this.partial) this.line(this.partial);
    this.partial = '';
  }

  private line(raw: string): void {
    const line = raw.trimEnd();
    if (line.trim() === '' || /^ ---> |^Removing intermediate container/.test(line)) return;
    const built = /^Successfully built ([0-9a-f]{12,64})$/.exec(line);
    if (built && !this.imageId) this.imageId = built[1];
    this.tail.push(line);
    if (this.tail.length > 30) this.tail.shift();
    this.forward(line);
  }

  /** The engine's own words for a failure, led by apt's or the shell's error lines when there are any. */
  reason(errors: string[]): string {
    const said = this.tail.filter((line) =>
      /^(E|ERROR|error): |No such file|not found/.test(line.trim()),
    );
    const lines = [...new Set([...said.map((l) => l.trim()), ...errors])];
    return lines.join('\n');
  }

  private forward(line: string): void {
    // apt prints hundreds of lines; steps and errors always pass, the rest at most a few a second.
    const important = /^Step \d+\/\d+ : |^(E|W): /.test(line);
    const now = Date.now();
    if (!important && now - this.lastSent < 300) return;
    this.lastSent = now;
    this.progress(line);
  }
}

/**
 * Tags the built image under the reserved name, or the next free one if something else took that
 * name in the engine while the build ran; another Deckhand on the same engine may use other Redis.
 */
async function tagFresh(
  docker: Dockerode,
  id: string,
  reserved: string,
  instance: string,
  reserve: (name: string) => Promise<boolean>,
): Promise<string> {
  let name = reserved;
  for (let attempt = 0; attempt < 5; attempt += 1) {
    if (!(await imageExists(docker, name))) {
      await docker.getImage(id).tag({ repo: name, tag: 'latest' });
      const now = await docker.getImage(name).inspect();
      if (now.Id === id) return name;
    }
    name = await nextImageName(docker, instance, reserve);
  }
  await docker
    .getImage(id)
    .remove()
    .catch((err: unknown) => {
      if (dockerStatus(err) !== 404) throw err;
    });
  throw new Error(`could not give the built image ${id} a name of its own after 5 tries`);
}
