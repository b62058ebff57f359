import { pino, type Logger } from 'pino';

/** Field names a person on call searches for; redacted ones never reach the log. */
const redact = {
  paths: [
    'token',
    '*.token',
    'DISCORD_TOKEN',
    '*.DISCORD_TOKEN',
    'REDIS_URL',
    '*.REDIS_URL',
    'password',
    '*.password',
    'headers.authorization',
  ],
  censor: '[redacted]',
};

/** The process logger: JSON lines by default, pretty when a person watches a terminal. */
export function createLogger(
  level = process.env.LOG_LEVEL ?? 'info',
  pretty = process.stderr.isTTY,
): Logger {
  const options = {
    level,
    redact,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (pretty && process.env.LOG_FORMAT !== 'json') {
    return pino({
      ...options,
      transport: { target: 'pino-pretty', options: { destination: 2, colorize: true } },
    });
  }
  return pino(options, pino.destination(2));
}
