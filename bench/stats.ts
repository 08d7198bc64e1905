/** Timing a function and summarising the samples; shared by the benchmarks in this folder. */
export interface Summary {
  samples: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function measure(fn: () => unknown, { warmup = 20, samples = 200 } = {}): Summary {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const start = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? NaN;
  return { samples, p50Ms: at(0.5), p95Ms: at(0.95), p99Ms: at(0.99), maxMs: times.at(-1) ?? NaN };
}
