import readline from 'node:readline';
import type Dockerode from 'dockerode';
import pRetry from 'p-retry';
import type { Logger } from 'pino';
import { LABEL } from '../engine/docker/labels.js';

/** A container event recovery cares about. */
export interface EngineEvent {
  action: 'die' | 'oom' | 'destroy';
  container: string;
  role?: string;
  service?: string;
  exitCode?: number;
  /** Engine time of the event, ms since epoch. */
  at: number;
}

export interface FollowOptions {
  docker: Dockerode;
  instance: string;
  log: Logger;
  onEvent(event: EngineEvent): void;
  /** Called on every connection; `again` is true after the stream dropped, when events may have been missed. */
  onConnected(again: boolean): void;
}

/** A running subscription to the engine's events. */
export interface EventFollower {
  /** Resolves once the first connection is up. */
  ready: Promise<void>;
  stop(): Promise<void>;
}

interface RawEvent {
  Type?: string;
  Action?: string;
  timeNano?: number;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

/**
 * Follows die, oom and destroy events of this instance's containers. When the stream drops
 * (dockerd restarted, socket cut), it reconnects with backoff and reports the reconnection, so the
 * caller can reconcile whatever happened in between.
 */
export function followEngineEvents(o: FollowOptions): EventFollower {
  const abort = new AbortController();
  let stopped = false;
  let current: NodeJS.ReadableStream | undefined;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const connect = () =>
    o.docker.getEvents({
      filters: {
        type: ['container'],
        event: ['die', 'oom', 'destroy'],
        label: [`${LABEL.instance}=${o.instance}`],
      },
    });

  async function loop(): Promise<void> {
    let again = false;
    while (!stopped) {
      let stream: NodeJS.ReadableStream;
      try {
        stream = await pRetry(connect, {
          forever: true,
          minTimeout: 100,
          maxTimeout: 5000,
          factor: 2,
          signal: abort.signal,
          onFailedAttempt: (err) => {
            o.log.warn(
              { attempt: err.attemptNumber, err: err.message },
              'engine event stream unavailable; retrying',
            );
          },
        });
      } catch {
        return;
      }
      if (stopped) {
        destroy(stream);
        return;
      }
      current = stream;
      o.log.info(
        { again },
        again ? 'engine event stream back; reconciling what it missed' : 'following engine events',
      );
      markReady();
      o.onConnected(again);
      await consume(stream);
      current = undefined;
      if (!stopped) o.log.warn('engine event stream ended; reconnecting');
      again = true;
    }
  }

  function consume(stream: NodeJS.ReadableStream): Promise<void> {
    return new Promise((resolve) => {
      stream.on('error', (err: Error) =>
        o.log.debug({ err: err.message }, 'engine event stream error'),
      );
      const lines = readline.createInterface({
        input: stream as NodeJS.ReadableStream,
        crlfDelay: Infinity,
      });
      // readline passes the stream's error on as its own; unheard, a dockerd restart would end the process.
      lines.on('error', () => resolve());
      lines.on('line', (line) => {
        const event = parse(line);
        if (event) o.onEvent(event);
      });
      lines.on('close', () => resolve());
      stream.on('close', () => resolve());
    });
  }

  const running = loop();
  return {
    ready,
    async stop() {
      stopped = true;
      abort.abort();
      if (current) destroy(current);
      await running;
    },
  };
}

function parse(line: string): EngineEvent | undefined {
  if (!line.trim()) return undefined;
  let raw: RawEvent;
  try {
    raw = JSON.parse(line) as RawEvent;
  } catch {
    return undefined;
  }
  if (raw.Type !== 'container' || !['die', 'oom', 'destroy'].includes(raw.Action ?? ''))
    return undefined;
  const attrs = raw.Actor?.Attributes ?? {};
  const exit = attrs.exitCode !== undefined ? Number(attrs.exitCode) : undefined;
  return {
    action: raw.Action as EngineEvent['action'],
    container: attrs.name ?? raw.Actor?.ID ?? '',
    role: attrs[LABEL.role],
    service: attrs[LABEL.service],
    exitCode: Number.isFinite(exit) ? exit : undefined,
    at: raw.timeNano ? Math.floor(raw.timeNano / 1e6) : Date.now(),
  };
}

function destroy(stream: NodeJS.ReadableStream): void {
  (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
}
