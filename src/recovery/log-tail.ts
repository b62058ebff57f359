import type Dockerode from 'dockerode';

/** The last `lines` lines a container wrote (stdout and stderr), or [] when they cannot be read. */
export async function logTail(
  docker: Dockerode,
  container: string,
  tty: boolean,
  lines = 5,
): Promise<string[]> {
  try {
    const raw = (await docker
      .getContainer(container)
      .logs({ stdout: true, stderr: true, tail: lines, follow: false })) as unknown as Buffer;
    const text = tty ? raw.toString('utf8') : demultiplex(raw);
    return text
      .split(/\r?\n/)
      .map((l) => l.trimEnd())
      .filter((l) => l.length > 0)
      .slice(-lines);
  } catch {
    return [];
  }
}

// Without a TTY the engine frames each chunk with an 8-byte header: stream type, 3 zero bytes, length.
function demultiplex(buf: Buffer): string {
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 8 <= buf.length) {
    const size = buf.readUInt32BE(at + 4);
    parts.push(buf.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}
