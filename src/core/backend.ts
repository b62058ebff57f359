import type { Logger } from 'pino';
import type { BuildRequest, CommandResult, RunSpec } from './types.js';

/** What a backend gets with every operation: who to tell about progress, and where to log. */
export interface OperationContext {
  /** Unique per command; a retried job keeps it, so operations can converge instead of repeat. */
  jobId: string;
  log: Logger;
  progress(line: string): void;
  /** Aborted when the worker shuts down and its grace period ran out; long work stops cleanly. */
  signal?: AbortSignal;
}

/**
 * The seam between the front ends and whatever carries commands out.
 * The single-host Docker engine is the first implementation; a Swarm backend is meant to be the second.
 */
export interface Backend {
  build(request: BuildRequest, ctx: OperationContext): Promise<CommandResult>;
  run(spec: RunSpec, ctx: OperationContext): Promise<CommandResult>;
  scale(
    name: string,
    direction: 'up' | 'down',
    count: number,
    ctx: OperationContext,
  ): Promise<CommandResult>;
  stop(name: string, ctx: OperationContext): Promise<CommandResult>;
  start(name: string, ctx: OperationContext): Promise<CommandResult>;
  list(ctx: OperationContext): Promise<CommandResult>;
  recover(ctx: OperationContext, only?: string): Promise<CommandResult>;
  quit(ctx: OperationContext): Promise<CommandResult>;
  /** Releases connections and watchers; the backend is not used afterwards. */
  close(): Promise<void>;
}
