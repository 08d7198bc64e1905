/**
 * The outcomes a health actor judges by, as a ring of fixed time buckets (resilience4j's sliding
 * time window): each bucket counts the requests and faults of its slice of the window, so
 * recording is one bucket and reading is a sum over the ring, whatever the traffic. Storing every
 * outcome and filtering the list on each one cost 1.3 ms per success at 1,000 a second
 * (bench/health-window). The price is resolution: an outcome leaves the window within one bucket
 * (a thirtieth of it) of its exact age. Pure and immutable: a new ring per record, of fixed size.
 */

export const WINDOW_BUCKETS = 30;
/** One more than the window holds: the current bucket must not overwrite the oldest, which still half counts. */
const RING = WINDOW_BUCKETS + 1;

export interface OutcomeBucket {
  /** Start of the bucket's slice, in ms; -1 for a bucket never used. */
  readonly start: number;
  readonly requests: number;
  readonly faults: number;
}

export interface OutcomeWindow {
  readonly bucketMs: number;
  readonly buckets: readonly OutcomeBucket[];
}

const UNUSED: OutcomeBucket = { start: -1, requests: 0, faults: 0 };

export function emptyWindow(windowMs: number): OutcomeWindow {
  return { bucketMs: Math.max(1, windowMs / WINDOW_BUCKETS), buckets: new Array<OutcomeBucket>(RING).fill(UNUSED) };
}

export function recordOutcome(window: OutcomeWindow, at: number, fault: boolean): OutcomeWindow {
  const slot = Math.floor(at / window.bucketMs);
  const start = slot * window.bucketMs;
  const index = ((slot % RING) + RING) % RING;
  const current = window.buckets[index] ?? UNUSED;
  // A bucket already holding a later slice means this outcome is older than the whole window.
  if (current.start > start) return window;
  const next = current.start === start ? { start, requests: current.requests + 1, faults: current.faults + (fault ? 1 : 0) } : { start, requests: 1, faults: fault ? 1 : 0 };
  const buckets = window.buckets.slice();
  buckets[index] = next;
  return { bucketMs: window.bucketMs, buckets };
}

/** Requests and faults of the buckets that overlap the `windowMs` before `now`. */
export function countOutcomes(window: OutcomeWindow, now: number, windowMs: number): { requests: number; faults: number } {
  const since = now - windowMs;
  let requests = 0;
  let faults = 0;
  for (const bucket of window.buckets) {
    if (bucket.start < 0 || bucket.start + window.bucketMs <= since || bucket.start > now) continue;
    requests += bucket.requests;
    faults += bucket.faults;
  }
  return { requests, faults };
}
