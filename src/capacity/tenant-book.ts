/**
 * Each tenant's use of one deployment on this node, per pool, and how much of its share this node
 * may hold (docs/design.md §5, tenants, and A4-A5).
 *
 * With peers, each node has a part of every tenant's share, split by where the tenant's requests
 * arrive (as the nodes split a quota): the parts add up to the share, so a tenant within its part
 * everywhere is within its share, however stale the gossip. Beyond its part, a tenant may still
 * use room the fleet-wide view shows (its own usage here, live, plus the peers' last word), so a
 * tenant well under its share is not held back by where the queue group sent its requests. Not
 * so, and it waits for its own seats here, when:
 *
 * - the fleet has not heard of it yet (it became active here less than SETTLE_REPORTS reports
 *   ago), since its usage elsewhere is unknown: a flood would otherwise take its whole share on
 *   every node at once; or
 * - the fleet-wide view shows no room. That view counts a request that finished on a peer and was
 *   followed by one here twice until the peer reports again, so it is no ground to refuse.
 *
 * A tenant whose requests arrive across the fleet faster than its share can serve them (its
 * demand, summed from the digests, times how long a request holds its seat: Little's law) asks
 * for more than its share, and beyond its part it is refused at once (admission.ts).
 */
import type { Amounts } from './limits.js';
import { sharesOf, type PeerBook, type PeerTenantReport } from './peers.js';
import { demandSince, onWire, round, Usage, withArrival, type DemandRate } from './usage.js';

/** Reports this node publishes after a tenant arrives before the peers' word on it counts. */
const SETTLE_REPORTS = 2;
/** As many as a digest may carry per pool; the busiest tenants are the ones whose shares matter. */
const MAX_REPORTED = 64;

interface TenantEntry {
  usage: Usage;
  demand: DemandRate;
  /** The demand the peers last heard from us, which our part is computed from (so parts add up). */
  demandAtReference: number;
  lastArrivalAt: number;
  /** When it last became active here, after a window without requests. */
  activeSince: number;
  /** Reports published since the tenant became active here. */
  reportsSinceActive: number;
}

/** This node's part of a tenant's share; absent when the fleet-wide view alone judges it. */
export interface TenantSplit {
  /** This node's part of the tenant's share (0..1). */
  share: number;
  /** The tenant's own usage here. */
  own: Amounts;
  /** Requests per second of the tenant arriving across the fleet (ours as last reported, so all nodes add up the same). */
  fleetDemand: number;
  /**
   * The same with ours live: what judges whether the tenant asks for too much, so a flood that
   * starts here is seen at once rather than at the next report (a hundred requests at once
   * otherwise each cost the node a request actor and a wait for the best part of a second, paid
   * in the other tenants' latency).
   */
  liveFleetDemand: number;
  /** Whether the fleet has heard of it, so the fleet-wide view of its usage counts. */
  settled: boolean;
  /** How long a request holds its seat on the deployment, lately, and the rate window: what turns demand into load. */
  seatMs: number;
  windowMs: number;
}

export class TenantBook {
  private readonly byPool = new Map<string, Map<string, TenantEntry>>();

  constructor(private readonly windowMs: number) {}

  /** The pools any tenant has asked for here. */
  pools(): IterableIterator<string> {
    return this.byPool.keys();
  }

  /** The tenant's usage here, created on first use. */
  usage(pool: string, tenant: string, now: number): Usage {
    return this.entry(pool, tenant, now).usage;
  }

  /** The tenant's usage here, if it has any. */
  existing(pool: string, tenant: string): Usage | undefined {
    return this.byPool.get(pool)?.get(tenant)?.usage;
  }

  /** A request of the tenant arrived here (asking again after a wait is not a new arrival). */
  arrived(pool: string, tenant: string, now: number): void {
    const entry = this.entry(pool, tenant, now);
    if (now - entry.lastArrivalAt > this.windowMs && entry.usage.inFlight === 0) {
      entry.reportsSinceActive = 0;
      entry.activeSince = now;
      entry.demand = { rate: 0, at: now };
    }
    entry.lastArrivalAt = now;
    entry.demand = withArrival(entry.demand, now);
  }

  /** Whether any other tenant uses the pool, here or on a peer. */
  othersActive(pool: string, tenant: string, now: number, peers: PeerBook): boolean {
    for (const [name, entry] of this.byPool.get(pool) ?? []) if (name !== tenant && entry.usage.inFlight + entry.usage.requests.total(now) > 0) return true;
    for (const [name, usage] of peers.tenants(pool)) if (name !== tenant && usage.concurrency + usage.rpm > 0) return true;
    return false;
  }

  /** This node's part of the tenant's share (see the header); none alone, where the node's view is the fleet's. */
  split(pool: string, tenant: string, now: number, peers: PeerBook, seatMs: number): TenantSplit | undefined {
    if (peers.count() === 0) return undefined;
    const entry = this.entry(pool, tenant, now);
    const demands = [entry.demandAtReference, ...peers.tenantDemands(pool, tenant)];
    const fleetDemand = demands.reduce((a, b) => a + b, 0);
    return {
      share: sharesOf(demands)[0] ?? 1,
      own: entry.usage.amounts(now),
      fleetDemand,
      liveFleetDemand: fleetDemand - entry.demandAtReference + demandSince(entry.demand, entry.activeSince, now),
      settled: entry.reportsSinceActive >= SETTLE_REPORTS,
      seatMs,
      windowMs: this.windowMs,
    };
  }

  /** What the digest says of the pool's tenants; each report counts towards their settling. */
  report(pool: string, now: number): PeerTenantReport[] {
    const reports: PeerTenantReport[] = [];
    for (const [tenant, entry] of this.byPool.get(pool) ?? []) {
      entry.reportsSinceActive++;
      entry.demandAtReference = round(demandSince(entry.demand, entry.activeSince, now));
      const usage = onWire(entry.usage.amounts(now));
      if (usage.inFlight + usage.requests === 0 && entry.demandAtReference === 0) continue;
      reports.push({ tenant, ...usage, ...(entry.demandAtReference > 0 ? { demand: entry.demandAtReference } : {}) });
    }
    return reports.sort((a, b) => b.inFlight - a.inFlight || (b.demand ?? 0) - (a.demand ?? 0)).slice(0, MAX_REPORTED);
  }

  private entry(pool: string, tenant: string, now: number): TenantEntry {
    let tenants = this.byPool.get(pool);
    if (!tenants) this.byPool.set(pool, (tenants = new Map<string, TenantEntry>()));
    let entry = tenants.get(tenant);
    if (!entry) {
      entry = { usage: new Usage(this.windowMs), demand: { rate: 0, at: now }, demandAtReference: 0, lastArrivalAt: -Infinity, activeSince: now, reportsSinceActive: 0 };
      tenants.set(tenant, entry);
    }
    return entry;
  }
}

