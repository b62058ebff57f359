import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import { checkRequest, dockerfile } from '../../src/engine/docker/build.js';
import {
  readEngineStream,
  StreamTimeoutError,
  StreamTruncatedError,
  type EngineRecord,
} from '../../src/engine/docker/images.js';
import type { BuildRequest } from '../../src/core/types.js';

function records(...lines: (EngineRecord | string)[]): string {
  return lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\r\n') + '\r\n';
}

describe('reading an engine progress stream', () => {
  it('collects an error record even when the stream then ends normally', async () => {
    const stream = new PassThrough();
    const seen: EngineRecord[] = [];
    const reading = readEngineStream(stream, { timeoutMs: 5000, onRecord: (r) => seen.push(r) });
    stream.write(
      records(
        { stream: 'Step 1/2 : FROM debian' },
        { stream: 'E: Unable to locate package zz9\n' },
      ),
    );
    stream.end(
      records({ errorDetail: { code: 100, message: 'returned a non-zero code: 100' }, error: 'x' }),
    );

    const { errors } = await reading;

    expect(errors).toEqual(['returned a non-zero code: 100']);
    expect(seen.map((r) => r.stream ?? r.error)).toHaveLength(3);
  });

  it('keeps a record split across chunks whole', async () => {
    const stream = new PassThrough();
    const seen: EngineRecord[] = [];
    const reading = readEngineStream(stream, { timeoutMs: 5000, onRecord: (r) => seen.push(r) });
    stream.write('{"status":"Pulling fr');
    stream.end('om library/x"}\n');

    await reading;

    expect(seen).toEqual([{ status: 'Pulling from library/x' }]);
  });

  it('refuses to call a stream finished when it was cut before its end', async () => {
    const stream = new PassThrough();
    const reading = readEngineStream(stream, { timeoutMs: 5000 });
    stream.write(records({ status: 'Downloading' }));
    stream.destroy();

    await expect(reading).rejects.toBeInstanceOf(StreamTruncatedError);
  });

  it('gives up on a stream that never ends once its bound has passed', async () => {
    const stream = new PassThrough();
    const reading = readEngineStream(stream, { timeoutMs: 200 });
    stream.write(records({ status: 'Waiting' }));

    await expect(reading).rejects.toBeInstanceOf(StreamTimeoutError);
    expect(stream.destroyed).toBe(true);
  });
});

describe('build request checks', () => {
  it.each(['curl', 'libstdc++6', 'python3.11', 'ca-certificates', 'netcat-openbsd'])(
    'accepts the Debian package name %j',
    (pkg) => {
      expect(() => checkRequest({ variant: 'install', pkg })).not.toThrow();
    },
  );

  it.each(['curl; touch /tmp/x', 'curl && id', '$(id)', 'curl\nRUN id', '-curl', 'Curl', 'c', ''])(
    'refuses %j as a package name',
    (pkg) => {
      expect(() => checkRequest({ variant: 'both', pkg, file: 'script1' })).toThrow(UserError);
    },
  );

  it.each([
    '../package.json',
    '/etc/passwd',
    'a/b',
    '..',
    '.hidden',
    '-rf',
    'a b',
    'x;id',
    'x\nRUN id',
    '',
  ])('refuses %j as a file name', (file) => {
    expect(() => checkRequest({ variant: 'copy', file })).toThrow(/not a plain file name/);
  });

  it.each([0, -1, 65536, 80.5, Number.NaN])('refuses port %s for netcat', (port) => {
    expect(() => checkRequest({ variant: 'netcat', port })).toThrow(/not a port number/);
  });

  it('refuses a base image that would add a Dockerfile line', () => {
    expect(() => dockerfile('debian\nRUN id', { variant: 'netcat', port: 80 })).toThrow(
      /BASE_IMAGE/,
    );
  });

  it.each<[BuildRequest, RegExp[]]>([
    [
      { variant: 'copy', file: 'script1' },
      [/^COPY \["files\/script1","\/opt\/myimages\/script1"\]$/m],
    ],
    [
      { variant: 'install', pkg: 'jq' },
      [/--no-install-recommends jq/, /rm -rf \/var\/lib\/apt\/lists/],
    ],
    [
      { variant: 'both', pkg: 'jq', file: 's' },
      [/install -y -q --no-install-recommends jq/, /^COPY /m],
    ],
    [{ variant: 'netcat', port: 8080 }, [/netcat-openbsd/, /^EXPOSE 8080$/m]],
  ])('writes the Dockerfile for %j', (request, expected) => {
    const text = dockerfile('debian:bookworm-slim', request);

    expect(text.startsWith('FROM debian:bookworm-slim\n')).toBe(true);
    for (const pattern of expected) expect(text).toMatch(pattern);
  });
});
