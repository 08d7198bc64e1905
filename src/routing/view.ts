/**
 * What routing sees of each deployment at the moment of choosing: a plain snapshot the actors build
 * from the health machines, so every strategy is a pure function of it (and of seeded randomness).
 */
import type { DeploymentId, HealthState, Vendor } from '../domain/index.js';

// The states are the domain's (`unusable` is never tried, not even in panic); routing re-exports them.
export { HEALTH_STATES, type HealthState } from '../domain/index.js';

export interface DeploymentView {
  id: DeploymentId;
  model: string;
  vendorRegion: string;
  vendor: Vendor;
  /** The worse of the deployment's own state and its vendor-region's. */
  state: HealthState;
  /** Peak-sensitive moving average of time to first token, decayed to now; undefined before any sample. */
  ttftMs?: number | undefined;
  /** Moving average of output tokens per second; undefined before any sample. */
  tokensPerSecond?: number | undefined;
  /** Requests in flight on this deployment (fleet-wide when gossip knows). */
  inFlight: number;
  /** Requests it can still take now within its quota and concurrency; Infinity when unknown. */
  headroom: number;
  /** Share of traffic it may take while ramping up after recovery, 0..1; 1 when fully recovered. */
  ramp: number;
  /** In halfOpen, whether this request may be one of the few probes. */
  probeAvailable: boolean;
  /** When the vendor asked us to wait (retry-after), epoch ms. */
  throttledUntil?: number | undefined;
  /** For panic mode: how bad it is (consecutive faults, openings); lower is less bad. */
  badness: number;
}

/** Where a plan finds each deployment's view: a Map, or views made as they are asked for. */
export type ViewLookup = Pick<ReadonlyMap<string, DeploymentView>, 'get'>;

/** Whether a request may be sent there now. Throttled or full deployments are available, just not first. */
export function isAvailable(view: DeploymentView): boolean {
  if (view.state === 'open' || view.state === 'drained' || view.state === 'unusable') return false;
  if (view.state === 'halfOpen') return view.probeAvailable;
  return true;
}

/** Available and with room: a request sent there should not be rate limited. */
export function hasCapacity(view: DeploymentView, now: number): boolean {
  return isAvailable(view) && view.headroom > 0 && (view.throttledUntil === undefined || view.throttledUntil <= now);
}
