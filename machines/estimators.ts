/**
 * The running estimates a deployment keeps, as plain data updated by pure functions so machine
 * context stays serialisable and tests need no clock: a peak-sensitive moving average (Finagle's
 * Peak EWMA: jumps up at once, decays down slowly) and a small ring of recent samples for p95.
 */

export interface PeakEwma {
  value: number | undefined;
  /** When the last sample arrived (ms, the machine's clock). */
  at: number;
}

/** Time constant of the decay; Finagle and Linkerd use 10 s. */
export const EWMA_DECAY_MS = 10_000;

export function emptyEwma(): PeakEwma {
  return { value: undefined, at: 0 };
}

/** A higher sample is taken at once; a lower one pulls the average down in proportion to elapsed time. */
export function observeEwma(ewma: PeakEwma, sample: number, now: number, decayMs = EWMA_DECAY_MS): PeakEwma {
  if (ewma.value === undefined || sample >= ewma.value) return { value: sample, at: now };
  const keep = Math.exp(-Math.max(0, now - ewma.at) / decayMs);
  return { value: ewma.value * keep + sample * (1 - keep), at: now };
}

/**
 * The estimate as of `now`: with no new samples it decays toward `prior`, so a deployment that
 * has been idle since it was slow looks worth another try and gets measured again.
 */
export function ewmaAt(ewma: PeakEwma, now: number, prior: number, decayMs = EWMA_DECAY_MS): number | undefined {
  if (ewma.value === undefined) return undefined;
  const keep = Math.exp(-Math.max(0, now - ewma.at) / decayMs);
  return ewma.value > prior ? ewma.value * keep + prior * (1 - keep) : ewma.value;
}

/** A plain moving average, for throughput, where a single slow stream should not dominate. */
export function observeAverage(current: number | undefined, sample: number, weight = 0.2): number {
  return current === undefined ? sample : current * (1 - weight) + sample * weight;
}

export const RECENT_SAMPLES = 64;

/** Keeps the last RECENT_SAMPLES values; enough for a p95 that follows change. One new array per sample. */
export function pushSample(samples: readonly number[], sample: number): number[] {
  return pushSamples(samples, [sample]);
}

/** Several samples at once, in order: one new array for them all. */
export function pushSamples(samples: readonly number[], added: readonly number[]): number[] {
  const kept = Math.max(0, Math.min(samples.length, RECENT_SAMPLES - added.length));
  const next = samples.slice(samples.length - kept);
  for (const sample of added.length > RECENT_SAMPLES ? added.slice(-RECENT_SAMPLES) : added) next.push(sample);
  return next;
}

/**
 * Sample arrays are never changed (each sample makes a new one), so one sort serves every read of
 * the same array: the router reads a deployment's p95 for every request it routes there.
 */
const sortedSamples = new WeakMap<readonly number[], number[]>();

export function percentile(samples: readonly number[], q: number): number | undefined {
  if (samples.length === 0) return undefined;
  let sorted = sortedSamples.get(samples);
  if (!sorted) sortedSamples.set(samples, (sorted = [...samples].sort((a, b) => a - b)));
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
