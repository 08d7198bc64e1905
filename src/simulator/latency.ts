/**
 * The latency model of a simulated deployment: time to first token from a log-normal (a long right
 * tail, as real vendors show), tokens per second from a normal, both optionally drifting over a
 * simulated day so latency-based routing has something to follow.
 */
import { z } from 'zod';
import { normal } from './random.js';

export const LatencyProfileSchema = z.strictObject({
  /** Median and 95th percentile of time to first token. */
  ttftMs: z.strictObject({ median: z.number().nonnegative(), p95: z.number().nonnegative() }).default({ median: 300, p95: 900 }),
  tokensPerSecond: z.strictObject({ mean: z.number().positive(), sd: z.number().nonnegative() }).default({ mean: 80, sd: 15 }),
  /** Daily swing: at the peak of the simulated day latency is (1 + amplitude) times the base, at the trough (1 - amplitude). */
  drift: z.strictObject({ amplitude: z.number().min(0).max(0.95), phase: z.number().min(0).max(1).default(0) }).optional(),
});
export type LatencyProfile = z.output<typeof LatencyProfileSchema>;

export const DEFAULT_LATENCY: LatencyProfile = LatencyProfileSchema.parse({});

const DAY_MS = 24 * 60 * 60 * 1000;
/** z-score of the 95th percentile of a standard normal. */
const Z95 = 1.6449;

export interface LatencyDraw {
  ttftMs: number;
  /** Pause between two output tokens. */
  interTokenMs: number;
}

export interface LatencyContext {
  random: () => number;
  /** Milliseconds of simulated time since the simulator started. */
  simulatedMs: number;
  /** Multiplies every delay: 1 is real time, 0 answers instantly (tests). */
  scale: number;
  /** Brownout factor from an active fault. */
  slowdown: number;
}

export function driftFactor(profile: LatencyProfile, simulatedMs: number): number {
  if (!profile.drift) return 1;
  const angle = 2 * Math.PI * (simulatedMs / DAY_MS + profile.drift.phase);
  return 1 + profile.drift.amplitude * Math.sin(angle);
}

export function drawLatency(profile: LatencyProfile, context: LatencyContext): LatencyDraw {
  const { median, p95 } = profile.ttftMs;
  const sigma = median > 0 && p95 > median ? Math.log(p95 / median) / Z95 : 0;
  const ttft = median * Math.exp(sigma * normal(context.random));
  const tps = Math.max(1, profile.tokensPerSecond.mean + profile.tokensPerSecond.sd * normal(context.random));
  const factor = driftFactor(profile, context.simulatedMs) * context.slowdown * context.scale;
  return { ttftMs: ttft * factor, interTokenMs: (1000 / tps) * factor };
}
