/** At most `perMinute` commands per user in any sliding minute, counted in this process. */
export class UserRateLimit {
  private readonly seen = new Map<string, number[]>();

  constructor(private readonly perMinute: number) {}

  /** Counts one command for the user; false when it is one too many. */
  take(userId: string, now = Date.now()): boolean {
    const recent = (this.seen.get(userId) ?? []).filter((t) => now - t < 60_000);
    if (recent.length >= this.perMinute) {
      this.seen.set(userId, recent);
      return false;
    }
    recent.push(now);
    this.seen.set(userId, recent);
    return true;
  }
}
