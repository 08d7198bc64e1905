/**
 * Notices a stream that keeps flowing at a trickle: its tokens per second over the last `forMs`
 * under `belowShare` percent of its deployment's norm. Such a stream never trips an idle timeout
 * (Bifrost users saw 0.8-1.6 tokens/s against a norm of 143-269), so it is judged here, from the
 * deltas as they arrive. Tokens are estimated from text (four characters a token, at least one a
 * delta), a factor two off at worst, well inside the margin a quarter leaves.
 */
import type { StreamEvent } from '../src/domain/index.js';

export interface CrawlPolicy {
  /** Percent of the deployment's norm under which a stream crawls; 0 turns the guard off. */
  belowShare: number;
  /** How long it must stay under before it counts. */
  forMs: number;
}

export class CrawlGuard {
  /** (time, tokens) of the deltas inside the window, oldest first. */
  private readonly recent: { at: number; tokens: number }[] = [];
  private inWindow = 0;
  private firstAt: number | undefined;

  constructor(
    /** The deployment's recent output tokens per second; undefined: no norm yet, no judgement. */
    private readonly norm: number | undefined,
    private readonly policy: CrawlPolicy,
    private readonly now: () => number,
  ) {}

  /** Takes one stream event; returns the rate when the stream has crawled for the whole window. */
  observe(event: StreamEvent): number | undefined {
    if (event.type !== 'delta' || this.norm === undefined || this.policy.belowShare <= 0) return undefined;
    const at = this.now();
    this.firstAt ??= at;
    const text = event.delta.type === 'text' ? event.delta.text : event.delta.argumentsJson;
    const tokens = Math.max(1, Math.round(text.length / 4));
    this.recent.push({ at, tokens });
    this.inWindow += tokens;
    while (this.recent.length > 1 && (this.recent[0]?.at ?? at) < at - this.policy.forMs) this.inWindow -= this.recent.shift()?.tokens ?? 0;
    if (at - this.firstAt < this.policy.forMs) return undefined;
    const rate = (this.inWindow * 1000) / this.policy.forMs;
    return rate < (this.norm * this.policy.belowShare) / 100 ? rate : undefined;
  }
}
