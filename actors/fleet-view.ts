/**
 * The routing view of one deployment (src/routing's DeploymentView): its state, latency merged
 * with the peers', room by our count and the vendor's word, slow-start ramp, whether this node
 * may probe it, and how bad its recent record is. What the strategies choose over.
 */
import type { CapacityLedger } from '../src/capacity/index.js';
import type { Deployment } from '../src/config/index.js';
import type { Vendor } from '../src/domain/index.js';
import { PRIOR_TTFT_MS, type DeploymentView, type HealthState } from '../src/routing/index.js';
import { ewmaAt } from '../machines/estimators.js';
import type { HealthActor } from './fleet-digest.js';
import { mergedTtft, type PeerDeployment } from './fleet-merge.js';

export interface ViewInput {
  actor: HealthActor;
  deployment: Deployment;
  vendor: Vendor;
  region: HealthActor | undefined;
  /** Its state combined with its vendor-region's. */
  state: HealthState;
  /** Whether this node is the fleet's elected prober of an actor (the deployment or its vendor-region). */
  probes: (actorId: string) => boolean;
  peer: PeerDeployment | undefined;
  capacity: CapacityLedger;
  now: number;
}

export function viewOf(input: ViewInput): DeploymentView {
  const { deployment, capacity, now, state } = input;
  const snapshot = input.actor.getSnapshot();
  const own = snapshot.context;
  const region = input.region?.getSnapshot();
  // Half-open, only the fleet's elected prober sends probes; the others wait for its verdict.
  const ownProbe = snapshot.value !== 'halfOpen' || (own.probesLeft > 0 && input.probes(deployment.id));
  const regionProbe = region?.value !== 'halfOpen' || (region.context.probesLeft > 0 && input.probes(deployment.vendorRegion));
  // Fleet-wide: every node's requests count against the same vendor concurrency.
  const inFlight = capacity.fleetInFlight(deployment.id);
  const limits = capacity.limits(deployment.id);
  return {
    id: deployment.id,
    model: deployment.model,
    vendorRegion: deployment.vendorRegion,
    vendor: input.vendor,
    state,
    ttftMs: mergedTtft(ewmaAt(own.ttft, now, PRIOR_TTFT_MS), own.ttftSamples.length, input.peer),
    tokensPerSecond: own.tokensPerSecond,
    inFlight,
    // Room by our count, and by the vendor's word on what is left of its window.
    headroom: Math.min((limits?.concurrency ?? deployment.quota.concurrency) - inFlight, Math.floor(capacity.vendorRequestsLeft(deployment.id))),
    ramp: own.rampStartedAt === undefined ? 1 : Math.min(1, Math.max(0.05, (now - own.rampStartedAt) / own.policy.rampMs)),
    probeAvailable: state === 'halfOpen' && ownProbe && regionProbe,
    throttledUntil: own.throttledUntil,
    badness: own.consecutiveFaults + own.breaker.openings * 10 + (region?.context.breaker.openings ?? 0) * 10,
  };
}
