/**
 * The four policies the bench compares. Only `latencyBased` is Switchyard's: it plans with the real
 * `planRequest` over views built with the real estimators; the others are yardsticks. Every policy
 * knows each deployment's free slots (the router counts its own requests), so the comparison is
 * about choosing among deployments with room, not about who notices a full one.
 */
import type { RouteNode } from '../../src/config/index.js';
import { deploymentId } from '../../src/domain/index.js';
import { PRIOR_TTFT_MS, planRequest, type DeploymentView, type PlanContext } from '../../src/routing/index.js';
import { seededRandom } from '../../src/simulator/random.js';
import { emptyEwma, ewmaAt, observeAverage, observeEwma, type PeakEwma } from '../../machines/estimators.js';
import { MEAN_TOKENS, MODEL, trueExpectedMs, type DeploymentSpec } from './fleet.js';
import type { FleetState, Policy } from './simulate.js';

const hasRoom = (fleet: FleetState, d: number) => fleet.active[d]! < fleet.capacity[d]!;

/** With every slot taken, the deployment with the fewest waiting (the first of those on a tie). */
function shortestQueue(fleet: FleetState): number {
  let best = 0;
  for (let d = 1; d < fleet.queued.length; d++) if (fleet.queued[d]! < fleet.queued[best]!) best = d;
  return best;
}

/**
 * `LatencyBased` over the fleet, as the router will run it: time to first token through Peak EWMA
 * (decayed toward the prior when idle), token rate through a moving average, in-flight = requests
 * being served, headroom = free slots, the default exploration rate, and the mean output length,
 * since the router cannot know a request's true length.
 */
export function latencyBased(fleet: DeploymentSpec[], seed: number): Policy {
  const route: RouteNode = { type: 'LatencyBased', members: fleet.map((d) => ({ type: 'Target', vendorRegion: d.vendorRegion })) };
  const ids = fleet.map((d) => deploymentId(MODEL, d.vendorRegion));
  const index = new Map<string, number>(ids.map((id, i) => [id, i]));
  const ttft: PeakEwma[] = fleet.map(() => emptyEwma());
  const rate: (number | undefined)[] = fleet.map(() => undefined);
  const random = seededRandom(seed ^ 0x5bd1e995);
  const excluded: ReadonlySet<string> = new Set();

  const view = (d: number, now: number, state: FleetState): DeploymentView => ({
    id: ids[d]!,
    model: MODEL,
    vendorRegion: fleet[d]!.vendorRegion,
    vendor: fleet[d]!.vendor,
    state: 'healthy',
    ttftMs: ewmaAt(ttft[d]!, now, PRIOR_TTFT_MS),
    tokensPerSecond: rate[d],
    inFlight: state.active[d]!,
    headroom: state.capacity[d]! - state.active[d]!,
    ramp: 1,
    probeAvailable: false,
    badness: 0,
  });

  return {
    name: 'LatencyBased',
    choose(_request, now, state) {
      const ctx: PlanContext = {
        views: new Map(ids.map((id, d) => [id, view(d, now, state)])),
        now,
        random,
        excluded,
        expectedOutputTokens: MEAN_TOKENS,
        routeOf: () => route,
        fallbackOf: () => undefined,
      };
      const first = planRequest(MODEL, ctx)[0];
      const d = first ? index.get(first.deployment) : undefined;
      if (d === undefined) throw new Error('LatencyBased planned no deployment of the bench model');
      return d;
    },
    observeFirstToken(d, ttftMs, now) {
      ttft[d] = observeEwma(ttft[d]!, ttftMs, now);
    },
    observeDone(d, _ttftMs, tokensPerSecond) {
      rate[d] = observeAverage(rate[d], tokensPerSecond);
    },
  };
}

/**
 * Knows each deployment's true typical latency at this moment and picks the lowest among those
 * with a free slot (whose queue wait is then zero); with none free, the shortest queue.
 */
export function oracle(fleet: DeploymentSpec[]): Policy {
  return {
    name: 'oracle',
    choose(_request, now, state) {
      let best = -1;
      let bestMs = Infinity;
      fleet.forEach((spec, d) => {
        if (!hasRoom(state, d)) return;
        const ms = trueExpectedMs(spec, MEAN_TOKENS, now);
        if (ms < bestMs) [best, bestMs] = [d, ms];
      });
      return best >= 0 ? best : shortestQueue(state);
    },
    observeFirstToken() {},
    observeDone() {},
  };
}

/** Each request to the next deployment in turn that has a free slot; with none free, the shortest queue. */
export function roundRobin(fleet: DeploymentSpec[]): Policy {
  let next = 0;
  return {
    name: 'round-robin',
    choose(_request, _now, state) {
      for (let i = 0; i < fleet.length; i++) {
        const d = (next + i) % fleet.length;
        if (hasRoom(state, d)) {
          next = d + 1;
          return d;
        }
      }
      return shortestQueue(state);
    },
    observeFirstToken() {},
    observeDone() {},
  };
}

export const WINDOW = 10;

/**
 * The naive estimator: the plain mean of the last 10 finished requests per deployment, each
 * normalised to the mean output length (time to first token + mean tokens at its observed rate)
 * so answer length is not mistaken for speed; lowest mean among those with a free slot,
 * unmeasured deployments first. No in-flight weighting, no decay, no exploration.
 */
export function lastTenMean(fleet: DeploymentSpec[]): Policy {
  const samples: number[][] = fleet.map(() => []);
  const sums = fleet.map(() => 0);
  return {
    name: `mean of last ${WINDOW}`,
    choose(_request, _now, state) {
      let best = -1;
      let bestMs = Infinity;
      for (let d = 0; d < fleet.length; d++) {
        if (!hasRoom(state, d)) continue;
        const n = samples[d]!.length;
        const ms = n === 0 ? -Infinity : sums[d]! / n;
        if (ms < bestMs) [best, bestMs] = [d, ms];
      }
      return best >= 0 ? best : shortestQueue(state);
    },
    observeFirstToken() {},
    observeDone(d, ttftMs, tokensPerSecond) {
      const sample = ttftMs + (MEAN_TOKENS / tokensPerSecond) * 1000;
      const window = samples[d]!;
      window.push(sample);
      sums[d]! += sample;
      if (window.length > WINDOW) sums[d]! -= window.shift()!;
    },
  };
}
