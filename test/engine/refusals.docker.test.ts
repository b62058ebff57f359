import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../support/engine.js';

// Bad and hostile input, typed into the console path with the real worker and engine behind it:
// each gets a message that names what was wrong, and nothing is created anywhere.
describe('bad input changes nothing', () => {
  let engine: TestEngine;

  beforeAll(async () => {
    engine = await startTestEngine();
  });
  afterAll(async () => {
    await engine?.close();
  });

  it.each([
    ['run --privileged nginx:alpine', /--privileged/],
    ['run -v /:/host nginx:alpine', /-v/],
    ['run --mount type=bind,src=/,dst=/host nginx:alpine', /--mount/],
    ['run --network host nginx:alpine', /--network/],
    ['run --net=host nginx:alpine', /--net/],
    ['run --pid=host nginx:alpine', /--pid/],
    ['run --ipc=host nginx:alpine', /--ipc/],
    ['run --uts=host nginx:alpine', /--uts/],
    ['run --cap-add SYS_ADMIN nginx:alpine', /--cap-add/],
    ['run --device /dev/sda nginx:alpine', /--device/],
    ['run --security-opt seccomp=unconfined nginx:alpine', /--security-opt/],
    ['run --userns=host nginx:alpine', /--userns/],
    ['run -d -p 8080:99999 nginx:alpine', /99999/],
    ['run -d -p abc nginx:alpine', /abc/],
    ['run', /image/i],
    ['run -x image_1', /-x/],
    ['run -itd -p', /-p/],
    ['run -p 80', /image/i],
    ['build install "curl; touch /tmp/x"', /curl; touch \/tmp\/x/],
    ['build install "curl && id"', /curl && id/],
    ["build install '$(id)'", /\$\(id\)/],
    ['build install -oAPT::Get::AllowUnauthenticated=true', /-oAPT/],
    ['build both "curl|sh" script1', /curl\|sh/],
    ['build copy ../etc/passwd', /\.\.\/etc\/passwd/],
    ['build copy /etc/passwd', /\/etc\/passwd/],
    ['build copy missing.txt', /missing\.txt/],
    ['build netcat 0', /0/],
    ['build netcat 70000', /70000/],
    ['scale up 0 web', /0/],
    ['scale up -1 web', /-1/],
    ['scale up 2.5 web', /2\.5/],
    ['scale up 500 web', /500/],
    ['scale up 1 no-such-service', /no-such-service/],
    ['stop no-such-service', /no-such-service/],
    ['frobnicate', /frobnicate/],
  ])('refuses %s, naming the problem', async (line, names) => {
    const out = await engine.exec(line);
    expect(out.ok).toBe(false);
    expect(out.output).toMatch(names);
  });

  it('gives one clear error for an image that cannot be had, within the pull bound', async () => {
    const out = await engine.exec('run -itd -p 80 nginx:no-such-tag');
    expect(out.ok).toBe(false);
    expect(out.output).toMatch(/nginx:no-such-tag/);
    expect(out.output.split('\n')).toHaveLength(1);
  });

  it('left no container, network or image behind', async () => {
    const filters = { label: [`deckhand.instance=${engine.config.DECKHAND_INSTANCE}`] };
    expect(await engine.docker.listContainers({ all: true, filters })).toEqual([]);
    expect(await engine.docker.listNetworks({ filters })).toEqual([]);
    expect(await engine.docker.listImages({ filters })).toEqual([]);
    expect(await engine.ok('list')).toMatch(/no services/);
  });

  it('answers an unknown command with the help text', async () => {
    const out = await engine.exec('frobnicate');
    expect(out.output).toMatch(/scale up/);
  });
});
