/**
 * A sum over a rolling window (requests or tokens in the last minute), kept in a ring of buckets
 * so that adding and reading cost the same however busy the deployment is: no per-request list.
 * The vendors count a rolling minute too; a bucket's width is the only error (window / buckets).
 */
export class RollingSum {
  private readonly sums: Float64Array;
  private readonly starts: Float64Array;
  private readonly width: number;
  private sum = 0;

  constructor(
    readonly windowMs: number,
    buckets = 30,
  ) {
    this.width = windowMs / buckets;
    this.sums = new Float64Array(buckets);
    this.starts = new Float64Array(buckets).fill(-Infinity);
  }

  private slot(at: number): number {
    const start = Math.floor(at / this.width) * this.width;
    const index = Math.floor(at / this.width) % this.sums.length;
    if (this.starts[index] !== start) {
      this.sum -= this.sums[index] ?? 0;
      this.sums[index] = 0;
      this.starts[index] = start;
    }
    return index;
  }

  /** Adds `value` at time `at` (may be negative, to correct an earlier estimate; the sum never drops below 0). */
  add(value: number, at: number): void {
    const index = this.slot(at);
    const next = Math.max(0, (this.sums[index] ?? 0) + value);
    this.sum += next - (this.sums[index] ?? 0);
    this.sums[index] = next;
  }

  /** The sum of what was added within the window ending at `at`. */
  total(at: number): number {
    this.expire(at);
    return this.sum;
  }

  /** How long until the oldest counted bucket leaves the window: when a full window frees some room. */
  msUntilRoom(at: number): number {
    this.expire(at);
    let oldest = Infinity;
    for (let i = 0; i < this.sums.length; i++) if ((this.sums[i] ?? 0) > 0) oldest = Math.min(oldest, this.starts[i] ?? Infinity);
    return oldest === Infinity ? 0 : Math.max(1, oldest + this.windowMs + this.width - at);
  }

  private expire(at: number): void {
    const cutoff = at - this.windowMs;
    for (let i = 0; i < this.sums.length; i++) {
      // A bucket counts until its end leaves the window, so a window never under-counts.
      if ((this.starts[i] ?? 0) + this.width <= cutoff && (this.sums[i] ?? 0) !== 0) {
        this.sum -= this.sums[i] ?? 0;
        this.sums[i] = 0;
      }
    }
    if (this.sum < 1e-9) this.sum = 0;
  }
}
