// The image's HEALTHCHECK: asks this container's own /healthz. Plain JavaScript, so it starts fast.
const port = process.env.HTTP_PORT || '9464';

try {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, {
    signal: AbortSignal.timeout(4000),
  });
  const body = await res.text();
  if (!res.ok) process.stderr.write(`unhealthy (${res.status}): ${body}`);
  process.exit(res.ok ? 0 : 1);
} catch (err) {
  process.stderr.write(`no answer from 127.0.0.1:${port}/healthz: ${err.message}\n`);
  process.exit(1);
}
