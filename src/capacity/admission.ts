/**
 * The admission rule for one request on one deployment, as a pure function of numbers
 * (docs/design.md §5, A3-A5). Three checks, each per dimension (concurrency, requests and tokens
 * per window):
 *
 * 1. Pools. Pool p may use the deployment's limit minus every unused reserve it may not borrow
 *    (pools.ts): a lower pool never spends a critical pool's reserve, however idle it is, and a
 *    critical pool spends idle lower pools' reserves. While more important requests are about,
 *    lower priorities stop short of the top (PRIORITY_HEADROOM), so as a pool nears its limit the
 *    lowest priority is shed first; alone, a priority may fill it.
 * 2. Tenants. Where another tenant is active in the pool, no tenant holds more than its maxShare
 *    of what the pool may use at its priority; a tenant alone may use all of it. Across the fleet
 *    each node holds a part of each tenant's share, and lends beyond it by the fleet-wide view
 *    (tenant-book.ts).
 * 3. The fleet. A node holds at most its share of what the request's pool may use at its
 *    priority (share by the demand every node last reported, with a floor for a new node; the
 *    shares add up to 1), so N nodes never overshoot a quota, let alone N-fold, nor a lower pool
 *    the room a critical pool's reserve leaves it, however stale the peers' usage reports are:
 *    each node counts its own usage exactly. Seats are whole: the nodes' parts of a pool's
 *    concurrency are apportioned by largest remainder, so they add up to the pool's seats rather
 *    than each rounding down (peers.ts `wholeSeats`). Idle shares are not lent across nodes;
 *    shares follow demand within seconds instead (peers.ts). Checks 1 and 2 use the fleet's
 *    usage as last reported.
 */
import type { Priority } from '../domain/index.js';
import { DIMENSIONS, type Amounts, type Dimension } from './limits.js';
import { mayBorrowFrom, type PoolRule } from './pools.js';
import { wholeSeats } from './peers.js';
import type { TenantSplit } from './tenant-book.js';

/** Share of what a pool may use that each priority may fill: the rest is left for higher ones. */
export const PRIORITY_HEADROOM: Record<Priority, number> = { critical: 1, high: 0.95, standard: 0.9, batch: 0.8 };

/**
 * `tenant`: over its share, refused outright; `tenant_share`: beyond this node's part of the
 * tenant's share, worth a wait for its own seats here; `vendor_word`: the vendor's headers said too
 * little is left of its window (vendor-word.ts).
 */
export type Refusal = 'pool' | 'priority' | 'tenant' | 'tenant_share' | 'fleet_share' | 'vendor_word';


export interface AdmissionInput {
  limits: Amounts;
  rules: readonly PoolRule[];
  /** The fleet's usage per pool (the peers' last word plus this node's own, live). */
  usage: ReadonlyMap<string, Amounts>;
  pool: PoolRule;
  priority: Priority;
  /** Whether requests more important than this one wanted the deployment recently. */
  higherPriorityActive: boolean;
  cost: Amounts;
  /**
   * The tenant's fleet-wide usage of this pool, whether any other tenant is active in it, and,
   * where this node must keep to a part of the tenant's share, that part (tenant-book.ts).
   */
  tenant: { maxShare: number; usage: Amounts; othersActive: boolean; split?: TenantSplit | undefined };
  fleet: {
    /** How much this node may hold (peers.ts; the whole limit alone). */
    allowance: Amounts;
    /** This node's own usage of the deployment, over all pools. */
    own: Amounts;
    /** Every node's part of the deployment's concurrency, this node's first (peers.ts `FleetAllowance`): whole seats are apportioned from them. */
    seatParts?: readonly number[] | undefined;
  };
}

export type AdmissionVerdict =
  | { ok: true; /** Whether it spends a lower pool's reserve. */ borrowed: boolean }
  | {
      ok: false;
      refusal: Refusal;
      dimension: Dimension;
      /**
       * Set where only this node's share of the deployment stood in the way: what the request's
       * pool may use of that dimension fleet-wide, so the ledger can see whether a peer's share
       * has room for it.
       */
      fleetMay?: number;
    };

/** A tenant whose requests would need this many times its share is asking for too much: beyond its part here it is refused at once. */
const OVER_FACTOR = 1.5;

/** What the tenant's requests across the fleet would hold of a dimension if all were served (Little's law). */
function offeredLoad(split: TenantSplit, d: Dimension, cost: Amounts): number {
  const demand = Math.max(split.fleetDemand, split.liveFleetDemand);
  if (d === 'concurrency') return (demand * split.seatMs) / 1000;
  const perWindow = (demand * split.windowMs) / 1000;
  return d === 'rpm' ? perWindow : perWindow * cost.tpm;
}

export function judgeAdmission(input: AdmissionInput): AdmissionVerdict {
  const { limits, cost, pool } = input;
  let borrowed = false;
  for (const d of DIMENSIONS) {
    let total = 0;
    let protectedReserve = 0;
    let ownPool = 0;
    for (const rule of input.rules) {
      const used = input.usage.get(rule.name)?.[d] ?? 0;
      total += used;
      if (rule.name === pool.name) ownPool = used;
      else if (!mayBorrowFrom(pool, rule)) protectedReserve += Math.max(0, rule.reserve * limits[d] - used);
    }
    const poolMay = Math.max(0, limits[d] - protectedReserve);
    const priorityMay = input.higherPriorityActive ? poolMay * PRIORITY_HEADROOM[input.priority] : poolMay;
    // A tenant's share is of what its requests may use, counted across the fleet. Judged first: a
    // tenant over its share is refused outright, never queued behind the others it crowds out;
    // one held back only by this node's part of it waits for its own seats (capacity-queue.ts).
    if (input.tenant.othersActive) {
      const share = priorityMay * (input.tenant.maxShare / 100);
      const fleetRoom = input.tenant.usage[d] + cost[d] <= share;
      const { split } = input.tenant;
      if (!split) {
        if (!fleetRoom) return { ok: false, refusal: 'tenant', dimension: d };
      } else if (split.own[d] + cost[d] > share * split.share) {
        // Beyond its part here. Asking for too much, it goes no further, so its parts across the
        // fleet hold it to its share. Otherwise it may use room the fleet-wide view shows, once the
        // fleet has heard of it; and holding nothing here it may take one, so that a part smaller
        // than one request never leaves it waiting for a release that cannot come. Held back, it
        // waits for its own seats here and is not handed back: a tenant the fleet has not heard of
        // has no more room on a peer than here, and sending a hundred requests of a flood's first
        // second round the fleet cost every node it visited a request actor, paid in the other
        // tenants' latency (fleet-fairness bench).
        if (offeredLoad(split, d, cost) > OVER_FACTOR * share) return { ok: false, refusal: 'tenant', dimension: d };
        if ((!fleetRoom || !split.settled) && split.own[d] > 0) return { ok: false, refusal: 'tenant_share', dimension: d };
      }
    }
    if (total + cost[d] > poolMay) return { ok: false, refusal: 'pool', dimension: d };
    if (total + cost[d] > priorityMay) return { ok: false, refusal: 'priority', dimension: d };
    // This node's share is split among pools as the deployment is: a node whose share a lower
    // pool filled would refuse the critical pool's requests that the queue group sent it, and the
    // nodes' parts of a pool add up to the pool's limit however stale their view of each other.
    const scale = Number.isFinite(limits[d]) && limits[d] > 0 ? priorityMay / limits[d] : 1;
    let nodeMay = input.fleet.allowance[d] * scale;
    // Seats are whole, and the nodes' parts of them are apportioned so that they still add up to
    // the pool's: a node whose share was 4.4 seats held 4, and calm tenants queued for the rest
    // (fleet-fairness bench). A node whose own share is capped for now has no parts, and keeps to the cap.
    const parts = input.fleet.seatParts;
    if (d === 'concurrency' && parts && Number.isFinite(limits[d])) nodeMay = wholeSeats(parts, scale);
    if (input.fleet.own[d] + cost[d] > nodeMay) return { ok: false, refusal: 'fleet_share', dimension: d, fleetMay: priorityMay };
    const unreserved = limits[d] * Math.max(0, 1 - input.rules.reduce((sum, r) => sum + r.reserve, 0));
    if (ownPool + cost[d] > pool.reserve * limits[d] + unreserved) borrowed = true;
  }
  return { ok: true, borrowed };
}
