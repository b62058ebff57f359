import { randomBytes } from 'node:crypto';
import Dockerode from 'dockerode';
import { describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import { runDoctor, type DoctorResult } from '../../src/ops/doctor.js';

const line = (result: DoctorResult, check: string) => result.lines.find((l) => l.check === check)!;
const absent = `deckhand-absent-${randomBytes(4).toString('hex')}:none`;

describe('deckhand doctor against the real engine', () => {
  const env = { DOCKER_HOST: 'unix:///var/run/docker.sock' };

  it('reports the engine version and finds a base image that is present', async () => {
    const engine = await new Dockerode({ socketPath: '/var/run/docker.sock' }).version();
    const config = loadConfig({
      REDIS_URL: inject('redisUrl'),
      BASE_IMAGE: 'debian:bookworm-slim',
      PROXY_IMAGE: absent,
    });

    const result = await runDoctor(config, { env });

    expect(line(result, 'docker').status).toBe('ok');
    expect(line(result, 'docker').text).toBe(
      `engine ${engine.Version} (API ${engine.ApiVersion}, ${engine.Os}/${engine.Arch}) at unix:///var/run/docker.sock`,
    );
    expect(line(result, 'base image').status).toBe('ok');
    expect(line(result, 'base image').text).toMatch(
      /^debian:bookworm-slim is present \([0-9a-f]{12}, \d+ MB\)$/,
    );
  });

  it('says a missing proxy image will be built from BASE_IMAGE, and does not fail for it', async () => {
    const config = loadConfig({
      REDIS_URL: inject('redisUrl'),
      BASE_IMAGE: 'debian:bookworm-slim',
      PROXY_IMAGE: absent,
    });

    const result = await runDoctor(config, { env });

    expect(line(result, 'proxy image')).toEqual({
      check: 'proxy image',
      status: 'info',
      text: `${absent} is missing: will be built from BASE_IMAGE (debian:bookworm-slim) on first use`,
    });
  });

  it('warns that a missing base image needs a registry or a local load', async () => {
    const config = loadConfig({ REDIS_URL: inject('redisUrl'), BASE_IMAGE: absent });

    const result = await runDoctor(config, { env });

    expect(line(result, 'base image').status).toBe('warn');
    expect(line(result, 'base image').text).toContain(`${absent} is not on this engine`);
  });
});
