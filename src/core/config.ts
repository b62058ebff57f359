import { z } from 'zod';
import { parseMemory } from '../commands/resources.js';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const idList = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string().regex(/^\d{5,25}$/, 'must be a comma-separated list of Discord ids')));
const portRange = z
  .string()
  .regex(/^\d{1,5}-\d{1,5}$/, 'must look like 20000-29999')
  .transform((v) => v.split('-').map(Number) as [number, number])
  .refine(([lo, hi]) => lo >= 1 && hi <= 65535 && lo <= hi, 'must be a range inside 1-65535');
const memory = z.string().refine((v) => {
  try {
    return parseMemory(v) > 0;
  } catch {
    return false;
  }
}, 'must be a size of at least 6m, such as 512m or 2g');
const name = z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/, 'must be a Docker-style name');

/** Every setting Deckhand reads from its environment, with its default. */
export const configSchema = z.object({
  REDIS_URL: z.string().url().optional(),
  DECKHAND_INSTANCE: name.default('deckhand'),
  DECKHAND_NETWORK: name.optional(),
  DECKHAND_PROXY_NAME: name.optional(),
  PROXY_IMAGE: z.string().min(1).default('deckhand-proxy:latest'),
  BASE_IMAGE: z.string().min(1).default('debian:bookworm-slim'),
  MYIMAGES_DIR: z.string().min(1).default('myimages'),
  MAX_REPLICAS: int(1, 1000).default(20),
  MAX_CONTAINERS: int(1, 10000).default(200),
  PUBLISH_HOST_IP: z.union([z.ipv4(), z.ipv6()]).default('0.0.0.0'),
  PROXY_PORT_RANGE: portRange.default([20000, 29999]),
  PULL_TIMEOUT_MS: int(1000, 3_600_000).default(120_000),
  BUILD_TIMEOUT_MS: int(1000, 7_200_000).default(900_000),
  STOP_TIMEOUT_S: int(0, 600).default(10),
  WORKER_CONCURRENCY: int(1, 64).default(4),
  JOB_LOCK_MS: int(1000, 600_000).default(30_000),
  SHUTDOWN_GRACE_MS: int(0, 3_600_000).default(25_000),
  RESULT_TIMEOUT_MS: int(1000, 86_400_000).default(1_800_000),
  RECOVERY_INTERVAL_MS: int(500, 86_400_000).default(10_000),
  CRASHLOOP_MAX_RESTARTS: int(1, 1000).default(5),
  CRASHLOOP_WINDOW_MS: int(1000, 86_400_000).default(120_000),
  CRASHLOOP_BACKOFF_MS: int(10, 3_600_000).default(1000),
  CRASHLOOP_BACKOFF_MAX_MS: int(10, 3_600_000).default(30_000),
  CRASHLOOP_RESET_MS: int(100, 86_400_000).default(60_000),
  RECOVERY_SETTLE_MS: int(0, 3_600_000).default(5000),
  DEFAULT_MEMORY: memory.default('512m'),
  MAX_MEMORY: memory.default('4g'),
  DEFAULT_CPUS: z.coerce.number().positive().max(1024).default(1),
  MAX_CPUS: z.coerce.number().positive().max(1024).default(4),
  DEFAULT_PIDS_LIMIT: int(16, 1_000_000).default(512),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HTTP_PORT: int(0, 65535).optional(),
  DISCORD_TOKEN: z.string().min(1).optional(),
  DISCORD_APP_ID: z
    .string()
    .regex(/^\d{5,25}$/, 'must be a Discord application id')
    .optional(),
  DISCORD_GUILD_ID: z
    .string()
    .regex(/^\d{5,25}$/, 'must be a Discord guild id')
    .optional(),
  DISCORD_ALERT_CHANNEL_ID: z
    .string()
    .regex(/^\d{5,25}$/, 'must be a Discord channel id')
    .optional(),
  DISCORD_API_BASE: z.string().url().optional(),
  ALLOWED_ROLE_IDS: idList,
  ALLOWED_USER_IDS: idList,
  ADMIN_ROLE_IDS: idList,
  ADMIN_USER_IDS: idList,
  ALLOWED_CHANNEL_IDS: idList,
  COMMANDS_PER_MINUTE: int(1, 10_000).default(20),
  AUDIT_MAX_ENTRIES: int(100, 10_000_000).default(10_000),
});

type Raw = z.infer<typeof configSchema>;

/** Validated configuration, with the names Deckhand derives from the instance. */
export type Config = Readonly<Raw & { network: string; proxyName: string }>;

/** Thrown when the environment holds a value Deckhand cannot use; the message names each variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Reads and validates the environment once; unknown variables are ignored, bad ones are named. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(
    Object.keys(configSchema.shape)
      .filter((key) => env[key] !== undefined && env[key] !== '')
      .map((key) => [key, env[key]]),
  );
  const parsed = configSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const c = parsed.data;
  const clashes = [
    parseMemory(c.DEFAULT_MEMORY) > parseMemory(c.MAX_MEMORY) &&
      `DEFAULT_MEMORY: ${c.DEFAULT_MEMORY} is above MAX_MEMORY ${c.MAX_MEMORY}`,
    c.DEFAULT_CPUS > c.MAX_CPUS &&
      `DEFAULT_CPUS: ${c.DEFAULT_CPUS} is above MAX_CPUS ${c.MAX_CPUS}`,
  ].filter((line): line is string => typeof line === 'string');
  if (clashes.length) throw new ConfigError(`invalid configuration:\n  ${clashes.join('\n  ')}`);
  return Object.freeze({
    ...c,
    network: c.DECKHAND_NETWORK ?? c.DECKHAND_INSTANCE,
    proxyName: c.DECKHAND_PROXY_NAME ?? `${c.DECKHAND_INSTANCE}-proxy`,
  });
}
