import { Command as Program } from 'commander';
import { quote } from 'shell-quote';
import type { Logger } from 'pino';
import { ConfigError, loadConfig, type Config } from './core/config.js';
import { createLogger } from './core/log.js';
import { RedisMissingError, RedisUnreachableError, redisOptions } from './core/redis.js';
import { alertText } from './recovery/alert-text.js';
import { followAlerts } from './recovery/follow-alerts.js';
import { startRecovery } from './recovery/start-recovery.js';
import { runConsole, runLine } from './console/console.js';
import {
  DockerUnreachableError,
  openRuntime,
  runWorker,
  startOps,
  workerChecks,
  type Runtime,
} from './runtime.js';
import { gatewayCheck } from './ops/checks.js';

function setup(interactive = false): { config: Config; log: Logger } {
  const config = loadConfig();
  // At a console the replies speak for themselves; logs stay for warnings unless LOG_LEVEL asks for more.
  const level = interactive && !process.env.LOG_LEVEL ? 'error' : config.LOG_LEVEL;
  return { config, log: createLogger(level) };
}

/** Closes the worker and the runtime once, on the first SIGTERM or SIGINT, within the grace period. */
function onShutdown(log: Logger, graceMs: number, close: () => Promise<void>): void {
  let closing = false;
  const handler = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    log.info({ signal, graceMs }, 'shutting down: taking no new work');
    const timer = setTimeout(() => {
      log.error('shutdown grace period ran out; exiting with work still open');
      process.exit(1);
    }, graceMs + 10_000);
    timer.unref();
    close().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}

/** The worker with recovery around it: events, the schedule, and passes before and after commands. */
async function startWorkerProcess(rt: Runtime) {
  const recovery = await startRecovery({
    backend: rt.backend!,
    redis: rt.redis,
    connection: redisOptions(rt.redisUrl),
    config: rt.config,
    log: rt.log,
  });
  const worker = runWorker(rt, recovery.hooks);
  await worker.worker.waitUntilReady();
  rt.log.info(
    { instance: rt.config.DECKHAND_INSTANCE, concurrency: rt.config.WORKER_CONCURRENCY },
    'worker ready',
  );
  return { ...worker, recovery };
}

/** Stops recovery first (so nothing is restarted mid-shutdown), then the worker, then connections. */
async function closeWorker(
  rt: Runtime,
  worker: Awaited<ReturnType<typeof startWorkerProcess>>,
): Promise<void> {
  await worker.recovery.stop();
  await worker.shutdown(rt.config.SHUTDOWN_GRACE_MS);
  await rt.close();
}

/** Logs the bot in; loaded only when a token is configured. */
async function startDiscord(rt: Runtime) {
  const { startBot } = await import('./discord/bot.js');
  return startBot({
    config: rt.config,
    queue: rt.queue,
    redis: rt.redis,
    log: rt.log.child({ component: 'bot' }),
  });
}

const program = new Program('deckhand')
  .description('Run Docker from a Discord channel, or from this console.')
  .enablePositionalOptions()
  .showHelpAfterError();

program
  .command('start', { isDefault: true })
  .description(
    'run the bot and the worker (with DISCORD_TOKEN), or the worker and an interactive console',
  )
  .action(async () => {
    const { config, log } = setup(!process.env.DISCORD_TOKEN);
    const rt = await openRuntime(config, log, true);
    const worker = await startWorkerProcess(rt);
    if (config.DISCORD_TOKEN) {
      const bot = await startDiscord(rt);
      const ops = await startOps(rt, { ...workerChecks(rt), gateway: gatewayCheck(bot.client) });
      onShutdown(log, config.SHUTDOWN_GRACE_MS, async () => {
        await bot.stop();
        await closeWorker(rt, worker);
        await ops?.close();
      });
      return;
    }
    const ops = await startOps(rt, workerChecks(rt));
    onShutdown(log, config.SHUTDOWN_GRACE_MS, () => closeWorker(rt, worker));
    await runConsole({
      queue: rt.queue,
      maxReplicas: config.MAX_REPLICAS,
      resultTimeoutMs: config.RESULT_TIMEOUT_MS,
      follow: (print) => followAlerts(rt.redis, rt.prefix, (alert) => print(alertText(alert))),
    });
    await closeWorker(rt, worker);
    await ops?.close();
    process.exit(0);
  });

program
  .command('exec')
  .description('run one command and print its result, e.g. deckhand exec "scale up 3 worker1"')
  .argument('<command...>', 'the command line, quoted as one argument or as several')
  .passThroughOptions()
  .helpOption(false)
  .action(async (words: string[]) => {
    const { config, log } = setup(true);
    const rt = await openRuntime(config, log, true);
    // A running Deckhand already carries commands out; only without one does exec bring its own.
    const others = await rt.queue.queue.getWorkersCount();
    const worker = others > 0 ? undefined : await startWorkerProcess(rt);
    // Several words were already split by the caller's shell: quote them so they split the same way again.
    const line = words.length === 1 ? words[0]! : quote(words);
    const outcome = await runLine(
      line,
      {
        queue: rt.queue,
        maxReplicas: config.MAX_REPLICAS,
        resultTimeoutMs: config.RESULT_TIMEOUT_MS,
      },
      (line) => process.stderr.write(`  … ${line}\n`),
    );
    (outcome.ok ? process.stdout : process.stderr).write(`${outcome.output}\n`);
    if (worker) await closeWorker(rt, worker);
    else await rt.close();
    process.exit(outcome.ok ? 0 : 1);
  });

program
  .command('worker')
  .description('run only the worker: take commands off the queue and carry them out')
  .action(async () => {
    const { config, log } = setup();
    const rt = await openRuntime(config, log, true);
    const worker = await startWorkerProcess(rt);
    const ops = await startOps(rt, workerChecks(rt));
    onShutdown(log, config.SHUTDOWN_GRACE_MS, async () => {
      await closeWorker(rt, worker);
      await ops?.close();
    });
  });

program
  .command('bot')
  .description(
    'run only the Discord bot (needs DISCORD_TOKEN); a worker elsewhere carries out the commands',
  )
  .action(async () => {
    const { config, log } = setup();
    if (!config.DISCORD_TOKEN) throw new ConfigError('DISCORD_TOKEN: required to run the bot');
    const rt = await openRuntime(config, log, false);
    const bot = await startDiscord(rt);
    const ops = await startOps(rt, {
      redis: workerChecks(rt).redis!,
      gateway: gatewayCheck(bot.client),
    });
    onShutdown(log, config.SHUTDOWN_GRACE_MS, async () => {
      await bot.stop();
      await ops?.close();
      await rt.close();
    });
  });

program
  .command('register')
  .description(
    'register the slash commands with Discord (one guild with DISCORD_GUILD_ID, else global)',
  )
  .action(async () => {
    const { config, log } = setup();
    const { registerCommands } = await import('./discord/register.js');
    await registerCommands(config, log);
  });

program
  .command('doctor')
  .description('check what a new install usually gets wrong, one line each')
  .action(async () => {
    const config = loadConfig();
    const { runDoctor, formatDoctor } = await import('./ops/doctor.js');
    const result = await runDoctor(config);
    process.stdout.write(`${formatDoctor(result)}\n`);
    process.exit(result.ok ? 0 : 1);
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (
    err instanceof ConfigError ||
    err instanceof DockerUnreachableError ||
    err instanceof RedisMissingError ||
    err instanceof RedisUnreachableError
  ) {
    process.stderr.write(`deckhand: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
}
