import type Docker from 'dockerode';
import type { Redis } from 'ioredis';
import type { HealthCheck } from './http.js';

/** Healthy when the client is connected and Redis answers PING; never waits on an offline queue. */
export function redisCheck(redis: Redis): HealthCheck {
  return async () => {
    // With maxRetriesPerRequest null (BullMQ's setting) a command sent while offline waits forever.
    if (redis.status !== 'ready')
      return { ok: false, detail: `redis connection is ${redis.status}` };

    const answer = await redis.ping();
    return answer === 'PONG'
      ? { ok: true }
      : { ok: false, detail: `unexpected PING answer ${answer}` };
  };
}

/** Healthy when the Docker engine answers `/_ping`. */
export function dockerCheck(docker: Docker): HealthCheck {
  return async () => {
    await docker.ping();
    return { ok: true };
  };
}

/** The part of a discord.js Client the gateway check reads. */
export interface GatewayClient {
  isReady(): boolean;
  ws: { ping: number };
}

/** Healthy when the discord.js client has a live gateway session. */
export function gatewayCheck(client: GatewayClient): HealthCheck {
  return async () =>
    client.isReady()
      ? { ok: true, detail: `heartbeat ${client.ws.ping} ms` }
      : { ok: false, detail: 'not connected to the Discord gateway' };
}
