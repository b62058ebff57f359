import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { MANAGER } from './stand-in/stand-in.js';
import { startHarness, watchUnhandled, type Harness } from './harness.js';

let h: Harness;
const unhandled = watchUnhandled();

beforeAll(async () => {
  h = await startHarness({ redisUrl: inject('redisUrl') });
});
afterAll(async () => {
  await h?.stop();
  unhandled.dispose();
});
afterEach(() => expect(unhandled.errors).toEqual([]));

describe('/list', () => {
  it('is deferred at once and then answered with a table of services', async () => {
    const { id, token } = h.standIn.sendCommand({ name: 'list' });
    const ack = await h.standIn.until(() => h.standIn.acknowledgement(id), 3000, 'the deferral');
    expect(ack.type).toBe(5);

    const reply = await h.standIn.until(() => {
      const m = h.standIn.original(token);
      return m && m.embeds.length > 0 ? m : undefined;
    }, 5000, 'the result');
    expect(reply.embeds[0].title).toBe('1 service');
    const field = reply.embeds[1].fields[0];
    expect(field.name).toBe('worker1');
    expect(field.value).toContain('image_1');
    expect(field.value).toContain('2/2 running');
    expect(field.value).toContain('0.0.0.0:20001->80/tcp');
    expect(field.value).toContain('protected');
  });
});
