/**
 * How many hedges a use case may send: a token bucket filled by its requests (`maxShare` percent
 * of a hedge each) and emptied by hedges, so hedging cannot double a slow vendor's load. A burst
 * may spend what a few dozen requests saved, no more.
 */
const MAX_SAVED = 20;

export class HedgeBudget {
  private tokens = 0;
  private spent = 0;
  private requests = 0;

  constructor(private readonly share: number) {}

  /** A request of this use case arrives. */
  deposit(): void {
    this.requests++;
    this.tokens = Math.min(MAX_SAVED, this.tokens + this.share);
  }

  /** Whether a hedge could go out now, without spending. */
  affordable(): boolean {
    return this.tokens >= 1;
  }

  /** Whether a hedge may go out; taking one spends from the bucket. */
  take(): boolean {
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    this.spent++;
    return true;
  }

  /** Hedges sent and requests seen since start. */
  counts(): { hedges: number; requests: number } {
    return { hedges: this.spent, requests: this.requests };
  }
}
