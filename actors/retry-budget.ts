/**
 * The node-wide retry budget (Finagle's RetryBudget): every request deposits a fraction of a retry,
 * every retry withdraws one, and a small reserve refills with time so a quiet node can still retry.
 * Retries can therefore never multiply an outage: at most `percent` more requests than came in.
 */
export interface RetryBudgetOptions {
  /** Retries allowed per request, on average (0.2: one retry per five requests). */
  percent: number;
  /** Retries per second always allowed, whatever the traffic. */
  minPerSecond: number;
  /** How long deposits and the reserve last, in ms. */
  ttlMs: number;
}

export const DEFAULT_RETRY_BUDGET: RetryBudgetOptions = { percent: 0.2, minPerSecond: 10, ttlMs: 10_000 };

export class RetryBudget {
  private deposits = 0;
  private reserve: number;
  private refilledAt: number;
  /** Retries granted so far, for status and tests. */
  private granted = 0;

  constructor(
    private readonly options: RetryBudgetOptions = DEFAULT_RETRY_BUDGET,
    private readonly now: () => number = Date.now,
  ) {
    this.reserve = this.reserveCap();
    this.refilledAt = now();
  }

  private reserveCap(): number {
    return (this.options.minPerSecond * this.options.ttlMs) / 1000;
  }

  /** A new request arrives. */
  deposit(): void {
    this.deposits = Math.min(this.deposits + this.options.percent, this.reserveCap() * 10);
  }

  /** Whether a retry may go out now; taking it spends from the budget. */
  tryRetry(): boolean {
    const now = this.now();
    this.reserve = Math.min(this.reserveCap(), this.reserve + ((now - this.refilledAt) / 1000) * this.options.minPerSecond);
    this.refilledAt = now;
    if (this.deposits >= 1) {
      this.deposits -= 1;
      this.granted++;
      return true;
    }
    if (this.reserve >= 1) {
      this.reserve -= 1;
      this.granted++;
      return true;
    }
    return false;
  }

  /** Retries granted since start. */
  retriesGranted(): number {
    return this.granted;
  }
}
