/**
 * What a deployment really allows, learned from the vendor (docs/design.md §5): the configured
 * quota is where it starts, rate-limit headers cap it at what the vendor says, and a 429 sets the
 * limit of the busiest dimension just under the usage at which it came (multiplicative decrease
 * relative to what was in use, not to a limit that may have been wrong by far). Without further
 * 429s it creeps back up toward the configured quota (additive increase), so a quota raised at
 * the vendor is found again. Pure arithmetic on numbers handed in; the ledger owns the clock.
 */
export const DIMENSIONS = ['concurrency', 'rpm', 'tpm'] as const;
export type Dimension = (typeof DIMENSIONS)[number];
export type Amounts = Record<Dimension, number>;

export const ZERO: Amounts = { concurrency: 0, rpm: 0, tpm: 0 };

export interface LearningPolicy {
  /** After a 429 the busiest dimension's limit becomes this fraction of what was in use. */
  decrease: number;
  /** Growth back toward the configured quota, as a fraction of it per second. */
  increasePerSecond: number;
  /** No growth until this long after the last 429. */
  holdMs: number;
  /** 429s closer together than this are one signal (a burst of them came from one overshoot). */
  coalesceMs: number;
  /** The limit never falls below this fraction of the configured quota (nor below 1). */
  floor: number;
}

export const DEFAULT_LEARNING: LearningPolicy = { decrease: 0.95, increasePerSecond: 0.002, holdMs: 5_000, coalesceMs: 1_000, floor: 0.02 };

export class LearnedLimits {
  private learned: Amounts;
  /** Caps from rate-limit headers: the vendor's own word for requests and tokens per window. */
  private readonly said: Partial<Amounts> = {};
  private lastThrottleAt = -Infinity;
  private grownAt = -Infinity;
  /** 429s taken as signals (the rest were coalesced). */
  cuts = 0;

  constructor(
    readonly configured: Amounts,
    private readonly policy: LearningPolicy = DEFAULT_LEARNING,
  ) {
    this.learned = { ...configured };
  }

  /** The limits admission uses now. */
  current(now: number): Amounts {
    this.grow(now);
    return {
      concurrency: Math.min(this.learned.concurrency, this.said.concurrency ?? Infinity),
      rpm: Math.min(this.learned.rpm, this.said.rpm ?? Infinity),
      tpm: Math.min(this.learned.tpm, this.said.tpm ?? Infinity),
    };
  }

  /** A vendor 429 while `used` was in use: the dimension nearest its limit is the one the vendor enforces. */
  throttled(used: Amounts, now: number): void {
    if (now - this.lastThrottleAt < this.policy.coalesceMs) {
      this.lastThrottleAt = now;
      return;
    }
    this.lastThrottleAt = now;
    this.grownAt = now;
    const limits = this.current(now);
    let busiest: Dimension = 'concurrency';
    for (const d of DIMENSIONS) if (used[d] / limits[d] > used[busiest] / limits[busiest]) busiest = d;
    const floor = Math.max(1, this.configured[busiest] * this.policy.floor);
    this.learned[busiest] = Math.max(floor, Math.min(limits[busiest], used[busiest]) * this.policy.decrease);
    this.cuts++;
  }

  /** What the vendor's headers say the limits are; a limit above the configured quota changes nothing. */
  heard(hints: { requestsLimit?: number | undefined; tokensLimit?: number | undefined }): void {
    if (hints.requestsLimit !== undefined && hints.requestsLimit > 0) this.said.rpm = hints.requestsLimit;
    if (hints.tokensLimit !== undefined && hints.tokensLimit > 0) this.said.tpm = hints.tokensLimit;
  }

  /** Lowers this node's limits to what a peer learned (the vendor's quota is one for the whole fleet). */
  agree(peer: Partial<Amounts>, now: number): void {
    for (const d of DIMENSIONS) {
      const value = peer[d];
      if (value === undefined || value >= this.learned[d]) continue;
      this.learned[d] = Math.max(Math.max(1, this.configured[d] * this.policy.floor), value);
      this.grownAt = Math.max(this.grownAt, now);
    }
  }

  private grow(now: number): void {
    if (now - this.lastThrottleAt < this.policy.holdMs) return;
    const seconds = (now - Math.max(this.grownAt, this.lastThrottleAt + this.policy.holdMs)) / 1000;
    this.grownAt = now;
    if (!(seconds > 0)) return;
    for (const d of DIMENSIONS) {
      this.learned[d] = Math.min(this.configured[d], this.learned[d] + this.configured[d] * this.policy.increasePerSecond * seconds);
    }
  }
}
