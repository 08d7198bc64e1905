/**
 * The simulated fleet and workload of the routing bench: four deployments of one model whose
 * latencies follow the simulator's own model (src/simulator/latency.ts), so the bench's vendors
 * drift the way `switchyard simulate` vendors do, and a seeded Poisson day of requests.
 */
import type { Vendor } from '../../src/domain/index.js';
import { LatencyProfileSchema, driftFactor, drawLatency, type LatencyProfile } from '../../src/simulator/latency.js';
import { seededRandom } from '../../src/simulator/random.js';

export const MODEL = 'bench-model';
export const DAY_MS = 24 * 60 * 60 * 1000;
export const SEED = 20_261_128;
/** Share of the fleet's slots busy on average if every request took its deployment's day-average time. */
export const TARGET_LOAD = 0.6;
/** Output lengths are uniform on this range; the router is told only the mean. */
export const MIN_TOKENS = 50;
export const MAX_TOKENS = 800;
export const MEAN_TOKENS = (MIN_TOKENS + MAX_TOKENS) / 2;

export interface DeploymentSpec {
  name: string;
  vendor: Vendor;
  vendorRegion: string;
  /** Concurrent requests it serves; more wait in its queue. */
  capacity: number;
  profile: LatencyProfile;
}

/**
 * Chosen so the fastest deployment changes three times a day (slow → swingB → swingA → slow) and
 * the full ranking reshuffles more often: two that swap being fastest in opposite phase, one
 * steady-but-middling with the most slots, and one usually slow with a deep trough late in the day.
 */
export const FLEET: DeploymentSpec[] = [
  {
    name: 'steady',
    vendor: 'azure',
    vendorRegion: 'azure/eastus',
    capacity: 24,
    profile: LatencyProfileSchema.parse({ ttftMs: { median: 400, p95: 1000 }, tokensPerSecond: { mean: 75, sd: 10 }, drift: { amplitude: 0.08, phase: 0.1 } }),
  },
  {
    name: 'swingA',
    vendor: 'bedrock',
    vendorRegion: 'bedrock/us-east-1',
    capacity: 16,
    profile: LatencyProfileSchema.parse({ ttftMs: { median: 250, p95: 800 }, tokensPerSecond: { mean: 95, sd: 15 }, drift: { amplitude: 0.45, phase: 0 } }),
  },
  {
    name: 'swingB',
    vendor: 'vertex',
    vendorRegion: 'vertex/us-east5',
    capacity: 16,
    profile: LatencyProfileSchema.parse({ ttftMs: { median: 300, p95: 900 }, tokensPerSecond: { mean: 90, sd: 15 }, drift: { amplitude: 0.45, phase: 0.5 } }),
  },
  {
    name: 'slow',
    vendor: 'anthropic',
    vendorRegion: 'anthropic',
    capacity: 12,
    profile: LatencyProfileSchema.parse({ ttftMs: { median: 600, p95: 1800 }, tokensPerSecond: { mean: 55, sd: 10 }, drift: { amplitude: 0.55, phase: 0.8 } }),
  },
];

/**
 * What the oracle knows and no router can: the deployment's true typical latency right now for a
 * request of `tokens` output tokens (median time to first token and mean rate, both drifted).
 */
export function trueExpectedMs(spec: DeploymentSpec, tokens: number, now: number): number {
  const { profile } = spec;
  return (profile.ttftMs.median + (tokens / profile.tokensPerSecond.mean) * 1000) * driftFactor(profile, now);
}

/** Requests per ms that keep TARGET_LOAD of the slots busy, from each deployment's day-average service time. */
export function arrivalRatePerMs(fleet: DeploymentSpec[]): number {
  const points = 288;
  const throughput = fleet.reduce((sum, spec) => {
    let total = 0;
    for (let i = 0; i < points; i++) total += trueExpectedMs(spec, MEAN_TOKENS, (i / points) * DAY_MS);
    return sum + spec.capacity / (total / points);
  }, 0);
  return TARGET_LOAD * throughput;
}

export interface Workload {
  arrivals: Float64Array;
  tokens: Int32Array;
}

/** A seeded Poisson process over one day; every policy replays exactly this sequence. */
export function workload(seed: number, ratePerMs: number): Workload {
  const random = seededRandom(seed);
  const arrivals: number[] = [];
  const tokens: number[] = [];
  for (let at = -Math.log(1 - random()) / ratePerMs; at < DAY_MS; at += -Math.log(1 - random()) / ratePerMs) {
    arrivals.push(at);
    tokens.push(MIN_TOKENS + Math.floor(random() * (MAX_TOKENS - MIN_TOKENS + 1)));
  }
  return { arrivals: Float64Array.from(arrivals), tokens: Int32Array.from(tokens) };
}

/**
 * One request's latency on one deployment, seeded by (request, deployment) so every policy that
 * sends a request to the same place gets the same noise; only the drift at its start time differs.
 */
export function drawFor(seed: number, request: number, deployment: number, spec: DeploymentSpec, startMs: number): { ttftMs: number; interTokenMs: number } {
  const mixed = (seed ^ Math.imul(request + 1, 0x9e3779b1) ^ Math.imul(deployment + 1, 0x85ebca6b)) >>> 0;
  return drawLatency(spec.profile, { random: seededRandom(mixed), simulatedMs: startMs, scale: 1, slowdown: 1 });
}
