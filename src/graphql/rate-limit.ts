/**
 * A fixed-window request counter per token subject. In-process: with several instances each
 * enforces its own share, which bounds abuse without a shared store on the hot path.
 */
export class RateLimiter {
  private windowStart = Date.now();
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly limitPerMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one request for `key`; false when the key is over its limit in this minute. */
  take(key: string): boolean {
    const now = this.now();
    if (now - this.windowStart >= 60_000) {
      this.windowStart = now;
      this.counts.clear();
    }
    const count = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, count);
    return count <= this.limitPerMinute;
  }
}
