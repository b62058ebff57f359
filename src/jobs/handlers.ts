import type { Backend, OperationContext } from '../core/backend.js';
import type { Command, CommandKind, CommandResult } from '../core/types.js';

type Handler<K extends CommandKind> = (
  backend: Backend,
  command: Extract<Command, { kind: K }>,
  ctx: OperationContext,
) => Promise<CommandResult>;

/** One small handler per job name: each hands its command to the backend seam. */
export const handlers: { [K in CommandKind]: Handler<K> } = {
  build: (b, c, ctx) => b.build(c.build, ctx),
  run: (b, c, ctx) => b.run(c.spec, ctx),
  scale: (b, c, ctx) => b.scale(c.name, c.direction, c.count, ctx),
  stop: (b, c, ctx) => b.stop(c.name, ctx),
  start: (b, c, ctx) => b.start(c.name, ctx),
  list: (b, _c, ctx) => b.list(ctx),
  recovery: (b, _c, ctx) => b.recover(ctx),
  quit: (b, _c, ctx) => b.quit(ctx),
};

/** Dispatches a command to its handler. */
export function handle(
  backend: Backend,
  command: Command,
  ctx: OperationContext,
): Promise<CommandResult> {
  const handler = handlers[command.kind] as Handler<CommandKind>;
  return handler(backend, command as never, ctx);
}
