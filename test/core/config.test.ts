import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/core/config.js';

describe('configuration', () => {
  it('has safe defaults and derives names from the instance', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      MAX_REPLICAS: 20,
      DECKHAND_INSTANCE: 'deckhand',
      network: 'deckhand',
      proxyName: 'deckhand-proxy',
    });
    expect(config.PROXY_PORT_RANGE).toEqual([20000, 29999]);
  });

  it.each([
    ['MAX_REPLICAS', 'many'],
    ['MAX_REPLICAS', '0'],
    ['REDIS_URL', 'not a url'],
    ['PROXY_PORT_RANGE', '9000-80'],
    ['PUBLISH_HOST_IP', '300.1.1.1'],
    ['DEFAULT_MEMORY', 'lots'],
    ['ADMIN_USER_IDS', '123,abc'],
    ['DECKHAND_INSTANCE', '../x'],
    ['LOG_LEVEL', 'loud'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  it('names every bad variable at once', () => {
    expect(() => loadConfig({ MAX_REPLICAS: 'x', STOP_TIMEOUT_S: '-1' })).toThrow(
      /MAX_REPLICAS[\s\S]*STOP_TIMEOUT_S/,
    );
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ DISCORD_TOKEN: '' }).DISCORD_TOKEN).toBeUndefined();
  });
});

describe('defaults against maxima', () => {
  it.each([
    [{ DEFAULT_MEMORY: '8g', MAX_MEMORY: '4g' }, /DEFAULT_MEMORY.*MAX_MEMORY/],
    [{ DEFAULT_CPUS: '8', MAX_CPUS: '4' }, /DEFAULT_CPUS.*MAX_CPUS/],
  ])('refuses a default above its maximum (%j)', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});
