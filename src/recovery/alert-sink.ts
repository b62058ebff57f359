import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { publishAlert, type Alert } from '../discord/alerts.js';

/** Where recovery's alerts go: a structured log line, and the alert stream the bot and console read. */
export class AlertSink {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {}

  /** Logs and publishes one alert; callers make sure each incident sends each kind once. */
  async send(alert: Alert): Promise<void> {
    const level =
      alert.kind === 'recovered' ? 'info' : alert.kind === 'crash-looping' ? 'error' : 'warn';
    this.log[level](
      {
        alert: alert.kind,
        service: alert.service,
        container: alert.container,
        exitCode: alert.exitCode,
        oom: alert.oom,
        downMs: alert.downMs,
        logTail: alert.logTail,
      },
      alert.message,
    );
    await publishAlert(this.redis, this.prefix, alert);
  }
}
