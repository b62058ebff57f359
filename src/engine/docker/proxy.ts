import { randomInt } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
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
// nginx retries a busy port for ~2.5 s before it gives up on a reload, so the bound sits above that.
const RELOAD_VERIFY_MS = 6_000;
const RELOAD_POLL_MS = 20;
// Log lines are read from a little before the signal; lines already there are counted and skipped,
// so a clock a little off between here and the engine cannot hide this reload's lines.
const LOG_MARGIN_MS = 2_000;
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

/** What nginx's log says of one reload so far, read from the lines after the signal. */
export type ReloadVerdict =
  { state: 'live' } | { state: 'refused'; error: string } | { state: 'pending'; detail: string };

const NGINX_LINE = /\[(\w+)\] (\d+)#\d+: (.*)$/;
const NGINX_RUNNING = /\d+#\d+: (start worker process|reconfiguring$|\*\d+ )/;
const BIND_RETRY = /^bind\(\) to .* failed \(98: /;

/**
 * Judges a reload from the nginx log lines written since the SIGHUP: live once new workers started
 * and as many old ones said they stopped accepting; refused on the master's emergency.
 */
export function judgeReload(lines: string[]): ReloadVerdict {
  let master: string | undefined;
  let spawning = false;
  const fresh = new Set<string>();
  const retired = new Set<string>();
  let bindError: string | undefined;
  let alarm: string | undefined;

  for (const line of lines) {
    const [, level, pid, text] = NGINX_LINE.exec(line.trim()) ?? [];
    if (level === undefined || pid === undefined || text === undefined) continue;

    if (master === undefined) {
      if (text === 'reconfiguring') master = pid;
    } else if (pid === master) {
      if (text === 'start worker processes') spawning = true;
      const spawned = /^start worker process (\d+)$/.exec(text)?.[1];
      if (spawned) fresh.add(spawned);
      if (spawning) continue;

      // A busy port is retried for a few seconds and may yet be freed; "still could not bind()"
      // or any other emergency before new workers start means the master kept its old config.
      if (level === 'emerg' && BIND_RETRY.test(text)) bindError ??= text;
      else if (level === 'emerg') return { state: 'refused', error: `nginx: ${bindError ?? text}` };
      else if (level === 'alert' || level === 'crit') alarm = `nginx: ${text}`;
    } else if (text === 'gracefully shutting down' && !fresh.has(pid)) {
      // A worker writes this line and closes its listening sockets in the same step, before it
      // could accept again. Every generation runs worker_processes workers, so the old one is
      // done taking connections once as many old workers as new ones have said it.
      retired.add(pid);
    }
  }

  if (spawning && fresh.size > 0 && retired.size >= fresh.size) return { state: 'live' };
  if (master === undefined)
    return { state: 'pending', detail: 'nginx did not take the reload signal' };
  if (!spawning)
    return { state: 'pending', detail: alarm ?? 'nginx did not start workers with the new config' };
  return { state: 'pending', detail: 'the old nginx workers did not stop accepting connections' };
}

interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

async function tarOf(files: Record<string, string>, mtime?: string): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, text] of Object.entries(files))
    pack.entry({ name, mode: 0o644, ...(mtime ? { pax: { mtime } } : {}) }, text);
  pack.finalize();

  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Now, in seconds, with random nanoseconds: a PAX mtime no other write will share. */
function uniqueMtime(): string {
  const ms = Date.now();
  const nanos = String(randomInt(1_000_000)).padStart(6, '0');
  return `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}${nanos}`;
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

// What the stream file holds and whether nginx runs it, for one run of the proxy container (its id
// and start time), so an apply need not read the file back. `stamp` is the file's mtime and size:
// each write sets a unique mtime, so a write by anyone else (another worker) shows at a glance.
interface KnownConfig {
  run: string;
  stamp?: string;
  file?: string;
  /** True only when nginx is known to run exactly `file`. */
  live: boolean;
}

/** The instance's nginx proxy container: it binds published ports on the host and spreads traffic. */
export class Proxy {
  private queue: Promise<unknown> = Promise.resolve();
  private known?: KnownConfig;
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
        this.known = undefined;
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

  /**
   * Makes the proxy serve exactly these services; a no-op when the live config already matches,
   * unless `force`: a reload also makes nginx forget the failures it counted against a replica,
   * which matters when a replica comes back on the address it had.
   */
  apply(
    services: ProxyService[],
    options: { force?: boolean } = {},
  ): Promise<{ changed: boolean }> {
    const run = this.queue.then(() => this.applyNow(services, options.force ?? false));
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

  private async applyNow(services: ProxyService[], force: boolean): Promise<{ changed: boolean }> {
    const next = render(services);
    const known = await this.knownConfig();
    const ports = services.flatMap((s) => s.ports.map((p) => `${p.hostPort}/${p.protocol}`));

    if (known.live && next === known.file && !force) {
      this.log.debug({ ports, changed: false }, 'proxy config unchanged, skipping reload');
      return { changed: false };
    }
    const previous = known.file ?? '';
    const wasLive = known.live;
    const started = Date.now();
    known.live = false;
    await this.writeKnown(known, next);

    try {
      await this.testConfig();
      await this.reload();
    } catch (err) {
      await this.restore(known, previous);
      // Refused by nginx means it still runs what it ran; anything else leaves that unknown, so
      // the next apply reloads even if the text matches.
      const refused = err instanceof ProxyUpdateError && err.stage !== 'verify';
      known.live = refused && wasLive && known.file === previous;
      this.log.warn(
        { ports, changed: false, err },
        'proxy update refused, previous config restored',
      );
      throw err;
    }
    known.live = true;
    this.log.info({ ports, changed: true, reloadMs: Date.now() - started }, 'proxy reloaded');
    return { changed: true };
  }

  private async knownConfig(): Promise<KnownConfig> {
    const info = await this.inspect();
    if (!info) {
      throw new EngineError('the proxy container is gone', {
        action: 'proxy.apply',
        container: this.config.proxyName,
        statusCode: 404,
      });
    }

    if (!info.State.Running) {
      throw new EngineError('the proxy container is not running', {
        action: 'proxy.apply',
        container: this.config.proxyName,
        statusCode: 409,
      });
    }

    // A fresh nginx loaded the file from disk when it started, so what the file says is live.
    const run = `${info.Id}@${info.State.StartedAt}`;
    if (this.known?.run !== run) {
      await this.untilNginxUp(info.State);
      this.known = { run, live: true };
    }

    const known = this.known;
    const stamp = await this.fileStamp();
    if (known.file === undefined || stamp !== known.stamp) {
      // Written by someone else since (or by us, unfinished): nginx may or may not run it.
      if (known.stamp !== undefined || known.file !== undefined) known.live = false;
      known.file = await this.liveConfig();
      known.stamp = stamp;
    }
    return known;
  }

  // A SIGHUP that reaches nginx before it has set up its signal handlers ends it, and the proxy with
  // it, so after each start of the container wait for a line only the running master or a worker
  // writes. nginx may log before the engine records StartedAt, so this run's lines are told from
  // the last run's by when that one finished; the last lines are enough to show it is running.
  private async untilNginxUp(state: Dockerode.ContainerInspectInfo['State']): Promise<void> {
    const since = Math.max(0, Date.parse(state.FinishedAt) / 1000 || 0);
    const deadline = Date.now() + RELOAD_VERIFY_MS;

    while (!(await this.logLines(since, 200)).some((line) => NGINX_RUNNING.test(line))) {
      if (Date.now() >= deadline) {
        throw new EngineError('nginx in the proxy did not start its workers', {
          action: 'proxy.apply',
          container: this.config.proxyName,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, RELOAD_POLL_MS));
    }
  }

  private async writeKnown(known: KnownConfig, text: string): Promise<void> {
    known.file = undefined;
    known.stamp = undefined;
    await this.writeStream(text);
    known.stamp = await this.fileStamp();
    known.file = text;
  }

  private async restore(known: KnownConfig, previous: string): Promise<void> {
    try {
      await this.writeKnown(known, previous);
    } catch (err) {
      this.log.error({ err }, 'could not put the previous proxy config back');
    }
  }

  // A stat of the file through the archive API: about a millisecond, where reading it takes ~50.
  private async fileStamp(): Promise<string> {
    try {
      const res = (await this.container().infoArchive({
        path: `${INCLUDE_DIR}/${STREAM_FILE}`,
      })) as IncomingMessage;
      // The answer comes as a stream; left unread, it would hold its socket open.
      res.resume();
      const header = res.headers['x-docker-container-path-stat'];
      if (typeof header !== 'string') return 'no stat';
      const stat = JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as {
        mtime?: string;
        size?: number;
      };
      return `${stat.mtime} ${stat.size}`;
    } catch (err) {
      if (dockerStatus(err) === 404) return 'missing';
      throw this.engineError('proxy.stat', err);
    }
  }

  private async testConfig(): Promise<void> {
    const result = await this.exec(['nginx', '-t', '-q']);
    if (result.exitCode !== 0) throw new ProxyUpdateError('test', errorLine(result.stderr));
  }

  // `nginx -s reload` would send the same SIGHUP through a slower exec and exit 0 whatever the
  // master then makes of it, so the signal goes through the API (docker-init passes it on to nginx)
  // and the master's own log says whether the new config took.
  private async reload(): Promise<void> {
    const since = (Date.now() - LOG_MARGIN_MS) / 1000;
    const earlier = (await this.logLines(since)).length;

    try {
      await this.container().kill({ signal: 'HUP' });
    } catch (err) {
      throw this.engineError('proxy.reload', err);
    }

    const deadline = Date.now() + RELOAD_VERIFY_MS;
    for (;;) {
      const verdict = judgeReload((await this.logLines(since)).slice(earlier));
      if (verdict.state === 'live') return;
      if (verdict.state === 'refused') throw new ProxyUpdateError('reload', verdict.error);
      if (Date.now() >= deadline) throw new ProxyUpdateError('verify', verdict.detail);
      await new Promise((resolve) => setTimeout(resolve, RELOAD_POLL_MS));
    }
  }

  // The same `since` always yields the same lines first, so counting them marks where new ones start.
  private async logLines(sinceSeconds: number, tail?: number): Promise<string[]> {
    try {
      const raw = await this.container().logs({
        stdout: false,
        stderr: true,
        since: sinceSeconds,
        ...(tail === undefined ? {} : { tail }),
      });
      const { stderr } = await this.demux(Readable.from([raw as unknown as Buffer]));
      return stderr.split('\n').slice(0, -1);
    } catch (err) {
      throw this.engineError('proxy.logs', err);
    }
  }

  private async writeStream(text: string): Promise<void> {
    try {
      await this.container().putArchive(await tarOf({ [STREAM_FILE]: text }, uniqueMtime()), {
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
          // Reloads are judged from this log, so it must be readable whatever the engine's default.
          LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '2' } },
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
