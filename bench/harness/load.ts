/**
 * Two ways to load a path. Open loop: requests leave evenly spaced at a fixed rate whatever the
 * answers do, and each is timed from when it was due, so a stall is counted rather than hidden
 * (no coordinated omission). Closed loop: a fixed number in flight, each answer sending the next,
 * which finds the most a path carries. Latencies go into HDR histograms (microseconds, 3 digits).
 */
import hdr from 'hdr-histogram-js';

/** One request down a path; true when it succeeded. */
export type Shot = () => Promise<boolean>;

export interface OpenLoopResult {
  requests: number;
  ok: number;
  /** Failures by error code (`false` answers count as `unsuccessful`). */
  errors: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface ClosedLoopResult {
  /** Every request sent, the warm-up's too. */
  sent: number;
  requests: number;
  ok: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

const histogram = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
const ms = (h: hdr.Histogram, percentile: number) => h.getValueAtPercentile(percentile) / 1000;

export async function openLoop(shot: Shot, options: { rate: number; seconds: number; warmupSeconds?: number }): Promise<OpenLoopResult> {
  const interval = 1000 / options.rate;
  const warm = Math.round(options.rate * (options.warmupSeconds ?? 1));
  const total = warm + Math.round(options.rate * options.seconds);
  const h = histogram();
  let ok = 0;
  let requests = 0;
  const errors: Record<string, number> = {};
  const failed = (code: string) => (errors[code] = (errors[code] ?? 0) + 1);
  const pending: Promise<void>[] = [];
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + i * interval;
    const wait = due - performance.now();
    if (wait >= 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const counted = i >= warm;
    pending.push(
      shot().then(
        (success) => {
          if (!counted) return;
          requests++;
          if (success) ok++;
          else failed('unsuccessful');
          h.recordValue(Math.max(1, Math.round((performance.now() - due) * 1000)));
        },
        (error: unknown) => {
          if (!counted) return;
          requests++;
          failed((error as { code?: string }).code ?? 'exception');
        },
      ),
    );
  }
  await Promise.all(pending);
  const result = { requests, ok, errors, p50Ms: ms(h, 50), p99Ms: ms(h, 99), maxMs: h.maxValue / 1000 };
  h.destroy();
  return result;
}

export async function closedLoop(shot: Shot, options: { concurrency: number; seconds: number; warmupSeconds?: number }): Promise<ClosedLoopResult> {
  const h = histogram();
  const warmUntil = performance.now() + 1000 * (options.warmupSeconds ?? 1);
  const endAt = warmUntil + 1000 * options.seconds;
  let ok = 0;
  let requests = 0;
  let all = 0;
  const worker = async () => {
    for (;;) {
      const sent = performance.now();
      if (sent >= endAt) return;
      all++;
      const success = await shot().catch(() => false);
      if (sent < warmUntil) continue;
      requests++;
      if (success) ok++;
      h.recordValue(Math.max(1, Math.round((performance.now() - sent) * 1000)));
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const result = { sent: all, requests, ok, perSecond: requests / options.seconds, p50Ms: ms(h, 50), p99Ms: ms(h, 99) };
  h.destroy();
  return result;
}

/** The median of a few runs' figures. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
