/**
 * Warnings about what strangers send (refused replies, forged digests): every one is counted, but
 * each kind is logged at most once per interval, with how many were suppressed since, so a flood
 * of forged messages cannot become a flood of log lines.
 */
import type { Logger } from 'pino';

export class ThrottledWarnings {
  private readonly counts = new Map<string, number>();
  private readonly loggedAt = new Map<string, number>();
  private readonly suppressed = new Map<string, number>();

  constructor(
    private readonly log: Logger,
    private readonly everyMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  warn(kind: string, fields: Record<string, unknown>, message: string): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    const at = this.now();
    const last = this.loggedAt.get(kind);
    if (last !== undefined && at - last < this.everyMs) {
      this.suppressed.set(kind, (this.suppressed.get(kind) ?? 0) + 1);
      return;
    }
    const suppressed = this.suppressed.get(kind) ?? 0;
    this.loggedAt.set(kind, at);
    this.suppressed.set(kind, 0);
    this.log.warn({ ...fields, kind, total: this.counts.get(kind), ...(suppressed > 0 ? { suppressed } : {}) }, message);
  }

  /** How many of each kind, logged or not. */
  totals(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}
