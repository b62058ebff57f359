/** An error whose message is fit to show in the channel or console as it is (bad input, unknown name). */
export class UserError extends Error {
  override readonly name: string = 'UserError';

  constructor(
    message: string,
    readonly context: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** A Docker engine answer that Deckhand could not turn into success, with where it happened. */
export class EngineError extends Error {
  override readonly name: string = 'EngineError';

  constructor(
    message: string,
    readonly context: { action: string; container?: string; image?: string; statusCode?: number },
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The HTTP status code Docker answered with, when the error came from the engine API. */
export function dockerStatus(err: unknown): number | undefined {
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** True for a dropped or refused connection: worth retrying, unlike bad input. */
export function isTransient(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' &&
    ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOENT', 'EAI_AGAIN'].includes(code)
  );
}

/** The message the engine put in an API error, without dockerode's "(HTTP code …)" prefix. */
export function engineMessage(err: unknown): string {
  const json = (err as { json?: { message?: unknown } } | null)?.json;
  if (json && typeof json.message === 'string') return json.message.trim();
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
}
