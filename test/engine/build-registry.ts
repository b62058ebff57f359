import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A registry on 127.0.0.1 that the engine can reach, misbehaving in one chosen way. */
export interface FakeRegistry {
  /** host:port, to put in front of an image name. */
  address: string;
  close(): Promise<void>;
}

/**
 * Starts a registry that either never answers (`silent`) or serves a manifest whose layer fails
 * its checksum (`corrupt`), which the engine reports only inside a pull stream that began with 200.
 */
export async function startFakeRegistry(mode: 'silent' | 'corrupt'): Promise<FakeRegistry> {
  const digest = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: [`sha256:${'0'.repeat(64)}`] },
    config: {},
  });
  const layer = Buffer.alloc(1024, 7);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: {
      mediaType: 'application/vnd.docker.container.image.v1+json',
      size: config.length,
      digest: digest(config),
    },
    layers: [
      // The digest names other bytes than the ones served, so verification fails.
      {
        mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
        size: layer.length,
        digest: `sha256:${'a'.repeat(64)}`,
      },
    ],
  });

  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    if (mode === 'silent') return;
    const url = req.url ?? '';
    if (url === '/v2/') {
      res.writeHead(200, {
        'Content-Type': 'application/json',
        'Docker-Distribution-API-Version': 'registry/2.0',
      });
      res.end('{}');
    } else if (url.includes('/manifests/')) {
      res.writeHead(200, {
        'Content-Type': 'application/vnd.docker.distribution.manifest.v2+json',
        'Docker-Content-Digest': digest(manifest),
        'Content-Length': manifest.length,
      });
      res.end(req.method === 'HEAD' ? undefined : manifest);
    } else if (url.endsWith(digest(config))) {
      res.end(config);
    } else {
      res.end(layer);
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
