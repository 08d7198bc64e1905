/**
 * What the vendor's rate-limit headers said is left of a window (requests and tokens remaining,
 * and when the window resets), counted down by what this node sends after hearing it. The account
 * may be shared with callers outside Switchyard, so what is left can be far less than the quota
 * minus our own count: a deployment about to run out is avoided before it answers 429. Each node
 * spends only its share of what is left, since every node hears the same figure.
 */
export interface RemainingHints {
  requestsRemaining?: number | undefined;
  requestsResetMs?: number | undefined;
  tokensRemaining?: number | undefined;
  tokensResetMs?: number | undefined;
}

interface Left {
  left: number;
  until: number;
  spent: number;
}

export class VendorWord {
  private requests: Left | undefined;
  private tokens: Left | undefined;

  heard(hints: RemainingHints, now: number): void {
    if (hints.requestsRemaining !== undefined) this.requests = { left: hints.requestsRemaining, until: now + (hints.requestsResetMs ?? 1000), spent: 0 };
    if (hints.tokensRemaining !== undefined) this.tokens = { left: hints.tokensRemaining, until: now + (hints.tokensResetMs ?? 1000), spent: 0 };
  }

  /** Requests this node may still send before the window resets, given its share; Infinity when the vendor said nothing current. */
  requestsLeft(share: number, now: number): number {
    return room(this.requests, share, now);
  }

  /** Whether a request of `tokens` fits what the vendor said is left; if not, how long until it resets. */
  judge(tokens: number, share: number, now: number): { ok: true } | { ok: false; retryAfterMs: number } {
    if (room(this.requests, share, now) < 1) return { ok: false, retryAfterMs: this.requests!.until - now };
    if (room(this.tokens, share, now) < tokens) return { ok: false, retryAfterMs: this.tokens!.until - now };
    return { ok: true };
  }

  spend(tokens: number, now: number): void {
    if (this.requests && now < this.requests.until) this.requests.spent += 1;
    if (this.tokens && now < this.tokens.until) this.tokens.spent += tokens;
  }
}

function room(left: Left | undefined, share: number, now: number): number {
  if (!left || now >= left.until) return Infinity;
  return left.left * share - left.spent;
}
