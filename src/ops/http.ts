import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { registry } from './metrics.js';

/** What one health check found; `detail` says why when it is not ok. */
export interface CheckResult {
  ok: boolean;
  detail?: string;
}

/** A named question `/healthz` asks on each request: can this process still do its job? */
export type HealthCheck = () => Promise<CheckResult>;

/** Settings for the ops endpoint. */
export interface OpsServerOptions {
  port: number;
  host?: string;
  checks: Record<string, HealthCheck>;
  log: Logger;
  checkTimeoutMs?: number;
}

/** A running ops endpoint: the port it took (useful with port 0) and how to stop it. */
export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

/** Serves `/healthz` (every check, 200 or 503) and `/metrics` (Prometheus text) over plain HTTP. */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const { checks, log, host = '0.0.0.0', checkTimeoutMs = 2000 } = options;

  const server = http.createServer((req, res) => {
    handle(req, res, checks, checkTimeoutMs).catch((err: unknown) => {
      log.error({ err, path: req.url }, 'ops endpoint failed to answer');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    });
  });

  // Health probes and scrapers open a fresh connection each time; idle ones must not delay close().
  server.keepAliveTimeout = 2000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const { port } = server.address() as AddressInfo;
  log.info(
    { port, host, checks: Object.keys(checks) },
    'ops endpoint listening (/healthz, /metrics)',
  );

  return {
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function handle(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  checks: Record<string, HealthCheck>,
  timeoutMs: number,
): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://ops').pathname;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' });
    res.end('method not allowed\n');
    return;
  }

  if (path === '/metrics') {
    const body = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }

  if (path === '/healthz') {
    const report = await runChecks(checks, timeoutMs);
    res.writeHead(report.ok ? 200 : 503, { 'content-type': 'application/json' });
    res.end(req.method === 'HEAD' ? undefined : `${JSON.stringify(report)}\n`);
    return;
  }

  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found: try /healthz or /metrics\n');
}

/** Runs every check at once, each bounded by the timeout, and names the ones that failed. */
export async function runChecks(
  checks: Record<string, HealthCheck>,
  timeoutMs: number,
): Promise<{ ok: boolean; failing: string[]; checks: Record<string, CheckResult> }> {
  const entries = await Promise.all(
    Object.entries(checks).map(
      async ([name, check]) => [name, await bounded(check, timeoutMs)] as const,
    ),
  );
  const failing = entries.filter(([, r]) => !r.ok).map(([name]) => name);
  return { ok: failing.length === 0, failing, checks: Object.fromEntries(entries) };
}

async function bounded(check: HealthCheck, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(
      () => resolve({ ok: false, detail: `no answer within ${timeoutMs} ms` }),
      timeoutMs,
    );
  });

  try {
    return await Promise.race([
      check().catch((err: unknown) => ({ ok: false, detail: errorText(err) })),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && !err.message.includes(code)
      ? `${code}: ${err.message}`
      : err.message;
  }
  return String(err);
}
