import { Socket, connect } from 'node:net';
import { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import tar from 'tar-stream';
import { ownedLabels } from '../../src/engine/docker/labels.js';

/** Reads a whole stream (a tar pack, an exec's output) into one buffer. */
export async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

/** Builds a labelled throwaway image from debian:bookworm-slim with these Debian packages. */
export async function buildTestImage(
  docker: Dockerode,
  tag: string,
  packages: string[],
  instance: string,
) {
  const dockerfile = [
    'FROM debian:bookworm-slim',
    'RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \\',
    `      ${packages.join(' ')} && rm -rf /var/lib/apt/lists/*`,
  ].join('\n');
  const context = tar.pack();
  context.entry({ name: 'Dockerfile' }, dockerfile);
  context.finalize();

  const stream = await docker.buildImage(Readable.from(context), {
    t: tag,
    forcerm: true,
    labels: ownedLabels(instance, 'image'),
  });
  const records = (await collect(stream)).toString('utf8');
  const failure = records.split('\n').find((line) => line.includes('"errorDetail"'));
  if (failure) throw new Error(`building test image ${tag} failed: ${failure}`);
}

/** Runs a removal, treating "already gone" as done, so teardown finishes whatever failed. */
export async function removeQuietly(remove: () => Promise<unknown>): Promise<void> {
  try {
    await remove();
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
  }
}

/** A line-oriented TCP client to 127.0.0.1 whose every read is bounded in time. */
export class LineClient {
  private buffer = '';
  private ended = false;
  private waiters: (() => void)[] = [];

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      this.buffer += text;
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  /** Opens a connection to 127.0.0.1 on this port. */
  static connect(port: number): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, timeout: 5000 }, () =>
        resolve(new LineClient(socket)),
      );
      socket.once('error', reject);
    });
  }

  /** The next line the peer sends; rejects if the peer closes first or is silent for 5 s. */
  async line(): Promise<string> {
    return this.until(
      () => this.buffer.includes('\n'),
      () => {
        const at = this.buffer.indexOf('\n');
        const line = this.buffer.slice(0, at);
        this.buffer = this.buffer.slice(at + 1);
        return line;
      },
    );
  }

  /** Resolves true once the peer has closed the connection (within 5 s). */
  closed(): Promise<boolean> {
    return this.until(
      () => this.ended,
      () => true,
    );
  }

  /** Sends one line. */
  send(line: string): void {
    this.socket.write(`${line}\n`);
  }

  /** Drops the connection. */
  close(): void {
    this.socket.destroy();
  }

  private until<T>(ready: () => boolean, take: () => T): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('no answer through the proxy within 5 s')),
        5000,
      );
      const check = () => {
        if (ready()) {
          clearTimeout(timer);
          resolve(take());
        } else if (this.ended) {
          clearTimeout(timer);
          reject(new Error(`connection closed by the proxy; had ${JSON.stringify(this.buffer)}`));
        } else {
          this.waiters.push(check);
        }
      };
      check();
    });
  }

  private wake(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w();
  }
}
