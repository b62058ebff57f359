import { isIP } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import type { Logger } from 'pino';
import tar from 'tar-stream';
import type { Config } from '../../core/config.js';
import { EngineError, UserError, dockerStatus } from '../../core/errors.js';
import { LABEL, ownedLabels } from './labels.js';

/** One service as the proxy sees it: its published ports and the IPs of its running replicas. */
export interface ProxyService {
  name: string;
  ports: { hostIp: string; hostPort: number; containerPort: number; protocol: 'tcp' | 'udp' }[];
  /** IPs on the Deckhand network of the replicas running now; never names (nginx resolves once). */
  backends: string[];
}

/** The proxy could not take a new config; nginx still runs the previous one (text fit for the user). */
export class ProxyUpdateError extends UserError {
  constructor(
    readonly stage: 'test' | 'reload' | 'verify',
    readonly nginxError: string,
  ) {
    super(`the proxy could not be updated, it still runs its previous config: ${nginxError}`, {
      stage,
    });
  }
}

const INCLUDE_DIR = '/etc/nginx/deckhand';
const STREAM_FILE = 'stream.conf';
const HEADER = '# Written by Deckhand on every change; edits here are overwritten.\n';
const SERVICE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;
const RELOAD_VERIFY_MS = 6_000;
const MEMORY_BYTES = 128 * 1024 * 1024;

// No http block at all, so the image's default site never binds port 80. Old workers keep serving
// their connections after a reload; the shutdown timeout bounds how long a reload can leave them.
const MAIN_CONF = `# Written by Deckhand when the proxy is created.
worker_processes auto;
pid /run/nginx.pid;
error_log stderr notice;
include /etc/nginx/modules-enabled/*.conf;
worker_shutdown_timeout 1h;

events {
    worker_connections 4096;
}

stream {
    include ${INCLUDE_DIR}/*.conf;
}
`;

const byNumber = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

function hostAddress(ip: string, port: number): string {
  return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}

function checkPort(port: number, what: string): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`proxy config: ${what} ${port} is not a port number`);
  }
}

/** The nginx stream config for these services: sorted, so the same input gives the same text. */
export function render(services: ProxyService[]): string {
  const blocks: string[] = [];
  const listening = new Map<string, string>();

  for (const service of [...services].sort((a, b) => byNumber(a.name, b.name))) {
    if (!SERVICE_NAME.test(service.name)) {
      throw new Error(`proxy config: service name ${JSON.stringify(service.name)} is not valid`);
    }
    const bad = service.backends.find((ip) => isIP(ip) === 0);
    if (bad !== undefined)
      throw new Error(`proxy config: backend ${JSON.stringify(bad)} is not an IP`);
    const backends = [...new Set(service.backends)].sort(byNumber);

    const ports = [...service.ports].sort(
      (a, b) =>
        a.protocol.localeCompare(b.protocol) ||
        a.hostPort - b.hostPort ||
        byNumber(a.hostIp, b.hostIp),
    );
    for (const port of ports) {
      if (isIP(port.hostIp) === 0)
        throw new Error(`proxy config: host IP ${port.hostIp} is not an IP`);
      checkPort(port.hostPort, 'host port');
      checkPort(port.containerPort, 'container port');

      // nginx cannot listen twice on one port and protocol, whatever the address.
      const key = `${port.hostPort}/${port.protocol}`;
      const owner = listening.get(key);
      if (owner !== undefined) {
        throw new Error(
          `proxy config: host port ${key} is claimed by both ${owner} and ${service.name}`,
        );
      }
      listening.set(key, service.name);

      blocks.push(renderPort(service.name, port, backends));
    }
  }
  return HEADER + blocks.join('\n');
}

function renderPort(name: string, port: ProxyService['ports'][number], backends: string[]): string {
  const upstream = `${name}_${port.protocol}_${port.hostPort}`;
  const servers = backends.length
    ? backends.map((ip) => `    server ${hostAddress(ip, port.containerPort)};`)
    : ['    # no running replica: keep listening, send nothing', '    server 127.0.0.1:1 down;'];
  const udp = port.protocol === 'udp';
  return [
    `# service ${name}: ${hostAddress(port.hostIp, port.hostPort)} -> ${port.containerPort}/${port.protocol}`,
    `upstream ${upstream} {`,
    ...servers,
    '}',
    'server {',
    `    listen ${hostAddress(port.hostIp, port.hostPort)}${udp ? ' udp' : ''};`,
    `    proxy_pass ${upstream};`,
    ...(udp
      ? ['    proxy_timeout 60s;']
      : ['    proxy_connect_timeout 2s;', '    proxy_timeout 1h;']),
    '}',
    '',
  ].join('\n');
}

interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

async function tarOf(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, text] of Object.entries(files)) pack.entry({ name, mode: 0o644 }, text);
  pack.finalize();

  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function firstFileOf(archive: NodeJS.ReadableStream): Promise<string> {
  const extract = tar.extract();
  Readable.from(archive as AsyncIterable<Buffer>).pipe(extract);

  let text: string | undefined;
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    text ??= Buffer.concat(chunks).toString('utf8');
  }
  return text ?? '';
}

/** Host ports in use, read from /proc/net/* lines: TCP listeners, or any bound UDP socket. */
function portsInUse(procNet: string, protocol: 'tcp' | 'udp'): Set<number> {
  const used = new Set<number>();
  for (const line of procNet.split('\n')) {
    const cols = line.trim().split(/\s+/);
    const local = cols[1]?.match(/^[0-9A-F]+:([0-9A-F]{4})$/i);
    if (!local?.[1]) continue;
    // nginx binds with SO_REUSEADDR, so only a listening TCP socket stands in its way.
    if (protocol === 'tcp' && cols[3] !== '0A') continue;
    used.add(Number.parseInt(local[1], 16));
  }
  return used;
}

/** The instance's nginx proxy container: it binds published ports on the host and spreads traffic. */
export class Proxy {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly log: Logger;

  constructor(
    private readonly docker: Dockerode,
    private readonly config: Config,
    log: Logger,
  ) {
    this.log = log.child({ proxy: config.proxyName });
  }

  /** Creates and starts the proxy if missing, starts it if stopped, adopts it if it is ours. */
  async ensure(): Promise<void> {
    let info = await this.inspect();

    if (!info) {
      info = await this.create();
      if (!info) return this.ensure();
    }
    this.checkOurs(info, 'proxy.ensure');
    if (info.State.Running) return;

    try {
      await this.container().start();
      this.log.info('proxy started');
    } catch (err) {
      if (dockerStatus(err) !== 304) throw this.engineError('proxy.start', err);
    }
  }

  /** Stops and removes the proxy container; already gone counts as done. */
  async remove(): Promise<void> {
    const info = await this.inspect();
    if (!info) return;
    this.checkOurs(info, 'proxy.remove');

    for (let attempt = 0; ; attempt++) {
      try {
        await this.container().remove({ force: true });
        this.log.info('proxy removed');
        return;
      } catch (err) {
        const status = dockerStatus(err);
        if (status === 404) return;
        // 409 here means a removal is already under way; wait for it to finish.
        if (status !== 409 || attempt >= 50) throw this.engineError('proxy.remove', err);
        await this.waitGone();
      }
    }
  }

  /** Makes the proxy serve exactly these services; a no-op when the live config already matches. */
  apply(services: ProxyService[]): Promise<{ changed: boolean }> {
    const run = this.queue.then(() => this.applyNow(services));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The stream config the proxy container holds now. */
  async liveConfig(): Promise<string> {
    try {
      return await firstFileOf(
        await this.container().getArchive({ path: `${INCLUDE_DIR}/${STREAM_FILE}` }),
      );
    } catch (err) {
      if (dockerStatus(err) === 404) return '';
      throw this.engineError('proxy.read', err);
    }
  }

  /** A port in range, outside `taken`, that nothing on the host is bound to. */
  async freeHostPort(
    range: [number, number],
    taken: Set<number>,
    protocol: 'tcp' | 'udp',
  ): Promise<number> {
    const used = await this.hostPortsInUse(protocol);
    const [lo, hi] = range;
    const size = hi - lo + 1;
    // A random start keeps two instances sharing a host from racing for the same first port.
    const start = Math.floor(Math.random() * size);

    for (let i = 0; i < size; i++) {
      const port = lo + ((start + i) % size);
      if (!taken.has(port) && !used.has(port)) return port;
    }
    throw new UserError(`no free ${protocol} host port left in ${lo}-${hi}`);
  }

  /** True when nothing on the host is bound to this port (read in the proxy's host network view). */
  async isHostPortFree(port: number, protocol: 'tcp' | 'udp'): Promise<boolean> {
    return !(await this.hostPortsInUse(protocol)).has(port);
  }

  private async applyNow(services: ProxyService[]): Promise<{ changed: boolean }> {
    const next = render(services);
    const previous = await this.liveConfig();
    const ports = services.flatMap((s) => s.ports.map((p) => `${p.hostPort}/${p.protocol}`));

    if (next === previous) {
      this.log.debug({ ports, changed: false }, 'proxy config unchanged, skipping reload');
      return { changed: false };
    }
    const started = Date.now();
    await this.writeStream(next);

    try {
      await this.testConfig();
      await this.reload();
    } catch (err) {
      await this.writeStream(previous);
      this.log.warn(
        { ports, changed: false, err },
        'proxy update refused, previous config restored',
      );
      throw err;
    }
    this.log.info({ ports, changed: true, reloadMs: Date.now() - started }, 'proxy reloaded');
    return { changed: true };
  }

  private async testConfig(): Promise<void> {
    const result = await this.exec(['nginx', '-t', '-q']);
    if (result.exitCode !== 0) throw new ProxyUpdateError('test', errorLine(result.stderr));
  }

  // `nginx -s reload` only signals the master and exits 0 even when the master then fails to bind a
  // port and keeps its old workers, so success is judged by the worker generation changing.
  private async reload(): Promise<void> {
    const before = await this.workers();
    const since = Date.now() / 1000;

    const result = await this.exec(['nginx', '-s', 'reload']);
    if (result.exitCode !== 0) throw new ProxyUpdateError('reload', errorLine(result.stderr));

    const deadline = Date.now() + RELOAD_VERIFY_MS;
    for (let round = 1; Date.now() < deadline; round++) {
      // Done only when old workers have stopped accepting, so the next connection meets new config.
      const now = await this.workers();
      if (now.some((pid) => !before.includes(pid)) && !now.some((pid) => before.includes(pid)))
        return;

      // The master reports a failed reload in its log; looking now and then ends the wait early.
      const failure = round % 5 === 0 ? await this.masterError(since) : undefined;
      if (failure) throw new ProxyUpdateError('verify', failure);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const failure = await this.masterError(since);
    throw new ProxyUpdateError(
      'verify',
      failure ?? 'nginx kept its old workers, the new config is not live',
    );
  }

  private async workers(): Promise<number[]> {
    const result = await this.exec(['ps', '-eo', 'pid=,args=']);
    if (result.exitCode !== 0) throw new Error(`ps in the proxy failed: ${result.stderr.trim()}`);
    return result.stdout
      .split('\n')
      .filter((line) => /nginx: worker process\s*$/.test(line))
      .map((line) => Number.parseInt(line, 10));
  }

  // A busy port makes the master retry bind() for a few seconds before it gives up with "still could
  // not bind()"; until then the reload may yet succeed, so only a final emergency counts.
  private async masterError(sinceSeconds: number): Promise<string | undefined> {
    try {
      const raw = await this.container().logs({ stdout: true, stderr: true, since: sinceSeconds });
      const { stderr } = await this.demux(Readable.from([raw as unknown as Buffer]));
      const lines = stderr
        .split('\n')
        .filter((l) => /\[(emerg|alert|crit)\]/.test(l))
        .map((l) => l.replace(/^.*?\[(emerg|alert|crit)\]\s*\d+#\d+:\s*/, 'nginx: '));
      const retrying = (l: string) => /bind\(\) to .* failed \(98:/.test(l);
      if (!lines.some((l) => !retrying(l))) return undefined;
      return lines.find(retrying) ?? lines[0];
    } catch (err) {
      this.log.warn({ err }, 'could not read the proxy log');
      return undefined;
    }
  }

  private async writeStream(text: string): Promise<void> {
    try {
      await this.container().putArchive(await tarOf({ [STREAM_FILE]: text }), {
        path: INCLUDE_DIR,
      });
    } catch (err) {
      throw this.engineError('proxy.write', err);
    }
  }

  private async hostPortsInUse(protocol: 'tcp' | 'udp'): Promise<Set<number>> {
    const files =
      protocol === 'tcp'
        ? ['/proc/net/tcp', '/proc/net/tcp6']
        : ['/proc/net/udp', '/proc/net/udp6'];
    // tcp6 may be missing on hosts without IPv6, so read what exists and ignore the rest.
    const result = await this.exec(['sh', '-c', 'cat "$@" 2>/dev/null; true', 'sh', ...files]);
    return portsInUse(result.stdout, protocol);
  }

  private async create(): Promise<Dockerode.ContainerInspectInfo | undefined> {
    const name = this.config.proxyName;
    let container: Dockerode.Container;
    try {
      container = await this.docker.createContainer({
        name,
        Image: this.config.PROXY_IMAGE,
        Cmd: ['nginx', '-g', 'daemon off;'],
        Labels: ownedLabels(this.config.DECKHAND_INSTANCE, 'proxy'),
        HostConfig: {
          NetworkMode: 'host',
          Init: true,
          RestartPolicy: { Name: 'no' },
          Memory: MEMORY_BYTES,
          PidsLimit: 256,
        },
      });
    } catch (err) {
      // Someone created it between our inspect and create: go round again and judge that one.
      if (dockerStatus(err) === 409) return undefined;
      throw this.engineError('proxy.create', err);
    }

    // The config goes in before nginx first starts, so it never runs the image's default site.
    await container.putArchive(
      await tarOf({ 'nginx.conf': MAIN_CONF, [`deckhand/${STREAM_FILE}`]: HEADER }),
      { path: '/etc/nginx' },
    );
    this.log.info({ image: this.config.PROXY_IMAGE }, 'proxy created');
    return await container.inspect();
  }

  private async inspect(): Promise<Dockerode.ContainerInspectInfo | undefined> {
    try {
      return await this.container().inspect();
    } catch (err) {
      if (dockerStatus(err) === 404) return undefined;
      throw this.engineError('proxy.inspect', err);
    }
  }

  private async waitGone(): Promise<void> {
    try {
      await this.container().wait({ condition: 'removed' });
    } catch (err) {
      if (dockerStatus(err) !== 404) throw err;
    }
  }

  private async exec(cmd: string[]): Promise<ExecResult> {
    try {
      const exec = await this.container().exec({
        Cmd: cmd,
        AttachStdout: true,
        AttachStderr: true,
      });
      const stream = await exec.start({});
      const { stdout, stderr } = await this.demux(stream);

      // The stream can end a moment before the engine records the exit code.
      for (let i = 0; i < 50; i++) {
        const info = await exec.inspect();
        if (!info.Running && info.ExitCode !== null)
          return { exitCode: info.ExitCode, stdout, stderr };
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error(`${cmd.join(' ')} in the proxy did not finish`);
    } catch (err) {
      if (dockerStatus(err) === undefined) throw err;
      throw this.engineError(`proxy.exec ${cmd[0]}`, err);
    }
  }

  private demux(stream: NodeJS.ReadableStream): Promise<{ stdout: string; stderr: string }> {
    const out = new PassThrough();
    const err = new PassThrough();
    const chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
    out.on('data', (c: Buffer) => chunks.stdout.push(c));
    err.on('data', (c: Buffer) => chunks.stderr.push(c));
    this.docker.modem.demuxStream(stream, out, err);

    return new Promise((resolve, reject) => {
      stream.on('error', reject);
      stream.on('end', () =>
        resolve({
          stdout: Buffer.concat(chunks.stdout).toString('utf8'),
          stderr: Buffer.concat(chunks.stderr).toString('utf8'),
        }),
      );
    });
  }

  private checkOurs(info: Dockerode.ContainerInspectInfo, action: string): void {
    const labels = info.Config.Labels ?? {};
    if (labels[LABEL.instance] === this.config.DECKHAND_INSTANCE && labels[LABEL.role] === 'proxy')
      return;

    const name = this.config.proxyName;
    throw new EngineError(
      `a container named ${name} exists that Deckhand did not make; rename or remove it yourself, ` +
        'or set DECKHAND_PROXY_NAME',
      { action, container: name, statusCode: 409 },
    );
  }

  private container(): Dockerode.Container {
    return this.docker.getContainer(this.config.proxyName);
  }

  private engineError(action: string, err: unknown): EngineError {
    const message = err instanceof Error ? err.message : String(err);
    return new EngineError(
      `${action} failed: ${message}`,
      {
        action,
        container: this.config.proxyName,
        statusCode: dockerStatus(err),
      },
      { cause: err },
    );
  }
}

function errorLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return (
    lines.find((l) => /\[(emerg|alert|crit|error)\]/.test(l)) ??
    lines[0] ??
    'nginx gave no error text'
  );
}
