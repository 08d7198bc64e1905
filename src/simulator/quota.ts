/**
 * Account quotas of one simulated deployment, enforced as the vendors do: requests and tokens per
 * rolling minute, and requests in flight. Exceeding any gets the vendor's own 429.
 */
import type { z } from 'zod';
import type { QuotaSchema } from '../config/index.js';

type Quota = z.output<typeof QuotaSchema>;

const WINDOW_MS = 60_000;

export interface QuotaState {
  requestsLimit: number;
  requestsRemaining: number;
  tokensLimit: number;
  tokensRemaining: number;
  /** Milliseconds until the oldest counted request leaves the window. */
  resetMs: number;
  /** The most requests ever in flight here at once, counting the one arriving: what the vendor was asked to hold. */
  peakConcurrencyAsked: number;
}

export type QuotaVerdict = { ok: true } | { ok: false; limit: 'rpm' | 'tpm' | 'concurrency'; retryAfterMs: number };

export class DeploymentQuota {
  private readonly requests: { at: number; tokens: number }[] = [];
  private inFlight = 0;
  private peakAsked = 0;

  constructor(
    private readonly quota: Quota,
    private readonly now: () => number,
  ) {}

  private prune(): void {
    const cutoff = this.now() - WINDOW_MS;
    while (this.requests.length > 0 && (this.requests[0]?.at ?? 0) <= cutoff) this.requests.shift();
  }

  state(): QuotaState {
    this.prune();
    const tokens = this.requests.reduce((sum, r) => sum + r.tokens, 0);
    const oldest = this.requests[0]?.at;
    return {
      requestsLimit: this.quota.rpm,
      requestsRemaining: Math.max(0, this.quota.rpm - this.requests.length),
      tokensLimit: this.quota.tpm,
      tokensRemaining: Math.max(0, this.quota.tpm - tokens),
      resetMs: oldest === undefined ? 0 : Math.max(0, oldest + WINDOW_MS - this.now()),
      peakConcurrencyAsked: this.peakAsked,
    };
  }

  /** Admits a request expected to use `tokens`, counting it; the caller must call `release()` when it ends. */
  admit(tokens: number): QuotaVerdict {
    this.peakAsked = Math.max(this.peakAsked, this.inFlight + 1);
    const state = this.state();
    const retryAfterMs = Math.max(1000, state.resetMs);
    if (this.inFlight >= this.quota.concurrency) return { ok: false, limit: 'concurrency', retryAfterMs: 1000 };
    if (state.requestsRemaining <= 0) return { ok: false, limit: 'rpm', retryAfterMs };
    if (state.tokensRemaining < tokens) return { ok: false, limit: 'tpm', retryAfterMs };
    this.requests.push({ at: this.now(), tokens });
    this.inFlight++;
    return { ok: true };
  }

  release(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
  }
}
