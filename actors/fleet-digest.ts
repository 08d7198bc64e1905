/**
 * The digest a node publishes for one vendor-region (docs/design.md §4): its own evidence only,
 * per deployment its state, latency, window counts, quota hints, capacity report and verdicts,
 * shaped for the wire (nothing a peer's schema would refuse).
 */
import type { Actor } from 'xstate';
import type { CapacityLedger } from '../src/capacity/index.js';
import type { Deployment } from '../src/config/index.js';
import type { HealthState } from '../src/routing/index.js';
import { PRIOR_TTFT_MS } from '../src/routing/index.js';
import { ewmaAt, percentile } from '../machines/estimators.js';
import type { healthMachine } from '../machines/health.machine.js';
import { GOSSIP_VERSION, type DeploymentDigest, type Digest } from '../src/transport/gossip-schema.js';
import { windowCounts } from './fleet-merge.js';

export type HealthActor = Actor<typeof healthMachine>;

export interface DigestInput {
  nodeId: string;
  seq: number;
  now: number;
  vendorRegion: string;
  region: HealthActor;
  deployments: readonly { actor: HealthActor; deployment: Deployment }[];
  capacity: CapacityLedger;
  /** Recent 429s per deployment or vendor-region id. */
  throttles: ReadonlyMap<string, number[]>;
}

export function digestOf(input: DigestInput): Digest {
  const { now, capacity, throttles } = input;
  const deployments: DeploymentDigest[] = input.deployments.map(({ actor, deployment }) => {
    const context = actor.getSnapshot().context;
    const ttftMs = onWire(ewmaAt(context.ttft, now, PRIOR_TTFT_MS));
    const p95 = onWire(percentile(context.ttftSamples, 0.95));
    const tokensPerSecond = onWire(context.tokensPerSecond);
    const report = capacity.report(deployment.id);
    return {
      id: deployment.id,
      state: stateOf(actor),
      ...(ttftMs === undefined ? {} : { ttftMs }),
      ttftSamples: context.ttftSamples.length,
      ...(p95 === undefined ? {} : { ttftP95Ms: p95 }),
      ...(tokensPerSecond === undefined ? {} : { tokensPerSecond }),
      inFlight: capacity.inFlight(deployment.id),
      window: windowCounts(context.outcomes, throttles.get(deployment.id) ?? [], now, context.policy.windowMs),
      // Only a wait still ahead is a hint worth sending.
      quota: context.throttledUntil !== undefined && context.throttledUntil > now ? { throttledUntil: Math.ceil(context.throttledUntil) } : {},
      ...(report ? { capacity: report } : {}),
      ...verdicts(actor),
    };
  });
  const regional = input.region.getSnapshot().context;
  return {
    v: GOSSIP_VERSION,
    node: input.nodeId,
    seq: input.seq,
    at: Math.round(now),
    vendorRegion: input.vendorRegion,
    state: stateOf(input.region),
    window: windowCounts(regional.outcomes, throttles.get(input.vendorRegion) ?? [], now, regional.policy.windowMs),
    ...verdicts(input.region),
    deployments,
  };
}

/** What peers may act on: an opening on strong evidence, or a recovery found by probing, each with its time as its identity. */
function verdicts(actor: HealthActor): Pick<DeploymentDigest, 'opened' | 'recovered'> {
  const snapshot = actor.getSnapshot();
  const { rampStartedAt } = snapshot.context;
  const { openReason, openedAt } = snapshot.context.breaker;
  if (snapshot.value === 'open' && openedAt !== undefined && (openReason === 'consecutive' || openReason === 'persistent')) {
    return { opened: { at: Math.round(openedAt), reason: openReason } };
  }
  if (snapshot.value === 'degraded' && rampStartedAt !== undefined) return { recovered: { at: Math.round(rampStartedAt) } };
  return {};
}

/** JSON has no NaN or Infinity, and a peer drops a digest holding null or a negative figure: leave such a value out. */
function onWire(value: number | undefined): number | undefined {
  return value !== undefined && Number.isFinite(value) && value >= 0 ? value : undefined;
}

export function stateOf(actor: HealthActor): Exclude<HealthState, 'unusable'> {
  const value = actor.getSnapshot().value;
  // The transient judging states settle within the same event; report them as where they came from.
  if (value === 'judging') return 'healthy';
  if (value === 'judgingDegraded') return 'degraded';
  return value;
}
