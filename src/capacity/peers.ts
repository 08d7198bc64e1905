/**
 * What the other router nodes say they use of one deployment, and how much of it this node may
 * hold (docs/design.md, A5, DRL's proportional share with a floor):
 *
 *   share_i = max(ε/N, d_i / Σ d_j), normalised so the shares add up to 1,
 *
 * where d is the demand each node last reported (so every node splits by the same numbers). A new
 * node (no demand yet) starts at the floor. A peer holding more than its share (its share shrank
 * while its requests still run) is counted at what it holds, and the others split what is left
 * in proportion to their shares: the fleet's total stays within the limit while shares move.
 * When peers fall silent (a peer dropped within the last RECENT_MS), the node does not take the
 * whole quota for itself: it keeps to SAFETY / N of the last fleet size N, as the silent peers
 * may still be sending.
 */
import { DIMENSIONS, ZERO, type Amounts, type Dimension } from './limits.js';

/** One peer's capacity report for one deployment, as its digest carries it. */
export interface PeerCapacity {
  /** Requests per second that wanted the deployment there (a decayed rate). */
  demand: number;
  /** The limits that peer admits by (learned from the vendor). */
  limits?: Partial<Amounts> | undefined;
  pools: {
    pool: string;
    inFlight: number;
    requests: number;
    tokens: number;
    tenants?: PeerTenantReport[] | undefined;
  }[];
}

/** A peer's report as the ledger hears it: with the node that sent it, so a request can be sent there by name. */
export type PeerReport = PeerCapacity & { node?: string | undefined };

/** One tenant's use of one pool on a peer. */
export interface PeerTenantReport {
  tenant: string;
  inFlight: number;
  requests: number;
  tokens: number;
  /** Requests per second of this tenant that arrived there (a decayed rate, refused ones included). */
  demand?: number | undefined;
}

export const SHARE_FLOOR = 0.1;
const NO_TENANTS: ReadonlyMap<string, Amounts> = new Map();
const SAFETY = 0.8;
/** How long a fleet size is remembered after peers go quiet. */
const RECENT_MS = 30_000;

export class PeerBook {
  private byPool = new Map<string, Amounts>();
  /** Per pool, per tenant. */
  private byTenant = new Map<string, Map<string, Amounts>>();
  /** Per pool, per tenant: its demand on each peer, in peer order. */
  private tenantDemandsBy = new Map<string, Map<string, number[]>>();
  private totals: Amounts = ZERO;
  private demands: number[] = [];
  private usages: Amounts[] = [];
  private nodes: (string | undefined)[] = [];
  private largest = 0;
  private largestAt = -Infinity;

  replace(reports: readonly PeerReport[], now: number): void {
    const byPool = new Map<string, Amounts>();
    const byTenant = new Map<string, Map<string, Amounts>>();
    const tenantDemands = new Map<string, Map<string, number[]>>();
    const totals = { ...ZERO };
    for (const [i, report] of reports.entries()) {
      for (const p of report.pools) {
        let tenants = byTenant.get(p.pool);
        if (!tenants) byTenant.set(p.pool, (tenants = new Map<string, Amounts>()));
        let poolDemands = tenantDemands.get(p.pool);
        if (!poolDemands) tenantDemands.set(p.pool, (poolDemands = new Map<string, number[]>()));
        for (const t of p.tenants ?? []) {
          const current = tenants.get(t.tenant) ?? { ...ZERO };
          tenants.set(t.tenant, { concurrency: current.concurrency + t.inFlight, rpm: current.rpm + t.requests, tpm: current.tpm + t.tokens });
          let demands = poolDemands.get(t.tenant);
          if (!demands) poolDemands.set(t.tenant, (demands = reports.map(() => 0)));
          demands[i] = (demands[i] ?? 0) + (t.demand ?? 0);
        }
        const current = byPool.get(p.pool) ?? { ...ZERO };
        current.concurrency += p.inFlight;
        current.rpm += p.requests;
        current.tpm += p.tokens;
        byPool.set(p.pool, current);
        totals.concurrency += p.inFlight;
        totals.rpm += p.requests;
        totals.tpm += p.tokens;
      }
    }
    this.byPool = byPool;
    this.byTenant = byTenant;
    this.tenantDemandsBy = tenantDemands;
    this.totals = totals;
    this.demands = reports.map((r) => r.demand);
    this.nodes = reports.map((r) => r.node);
    this.usages = reports.map((r) => r.pools.reduce((sum, p) => ({ concurrency: sum.concurrency + p.inFlight, rpm: sum.rpm + p.requests, tpm: sum.tpm + p.tokens }), { ...ZERO }));
    if (reports.length >= this.largest || now - this.largestAt > RECENT_MS) {
      this.largest = reports.length;
      this.largestAt = now;
    }
    if (reports.length === this.largest) this.largestAt = now;
  }

  usage(pool: string): Amounts {
    return this.byPool.get(pool) ?? ZERO;
  }

  /** What the peers say each tenant uses of a pool. */
  tenants(pool: string): ReadonlyMap<string, Amounts> {
    return this.byTenant.get(pool) ?? NO_TENANTS;
  }

  /** One tenant's demand on each peer, in peer order (0 where it is not reported). */
  tenantDemands(pool: string, tenant: string): readonly number[] {
    return this.tenantDemandsBy.get(pool)?.get(tenant) ?? this.demands.map(() => 0);
  }

  total(): Amounts {
    return this.totals;
  }

  count(): number {
    return this.demands.length;
  }

  peerDemands(): readonly number[] {
    return this.demands;
  }

  peerUsages(): readonly Amounts[] {
    return this.usages;
  }

  /** The node that sent the report at this index, where it said. */
  nodeAt(index: number): string | undefined {
    return this.nodes[index];
  }

  /** Whether more peers than now were heard within RECENT_MS: some went silent and may still be sending. */
  recentlyHadPeers(now: number): boolean {
    return this.largest > this.demands.length && now - this.largestAt <= RECENT_MS;
  }

  recentFleetSize(): number {
    return this.largest + 1;
  }
}

/** The shares of this node (first) and of each peer, in peer order; they add up to 1. */
export function fleetShares(ownDemand: number, peers: PeerBook): number[] {
  return sharesOf([ownDemand, ...peers.peerDemands()]);
}

/** Shares in proportion to demand, each at least SHARE_FLOOR / N (a node with no demand yet starts small), adding up to 1. */
export function sharesOf(demands: readonly number[]): number[] {
  const n = demands.length;
  const total = demands.reduce((a, b) => a + b, 0);
  const raw = demands.map((d) => Math.max(SHARE_FLOOR / n, total > 0 ? d / total : 1 / n));
  const sum = raw.reduce((a, b) => a + b, 0);
  return raw.map((r) => r / sum);
}

/**
 * This node's allowance of each limit, and every node's part of the concurrency limit (this node's
 * first), which whole seats are apportioned from: absent alone, and while this node's own share
 * is capped (it keeps to the cap then).
 */
export interface FleetAllowance {
  allowance: Amounts;
  seatParts?: readonly number[] | undefined;
}

/**
 * How much of each limit this node may hold now (all of it alone). `ceiling` is the share the
 * peers left this node before its last report: a share that grows takes effect once the peers
 * whose shares shrank have heard that report (ledger.ts, PROPAGATION_MS).
 */
export function fleetAllowance(ownDemand: number, peers: PeerBook, limits: Amounts, now: number, ceiling = 1): FleetAllowance {
  const shares = fleetShares(ownDemand, peers);
  const own = Math.min(shares[0] ?? 1, ceiling);
  const usages = peers.peerUsages();
  const allowance = { ...ZERO };
  let seatParts: number[] | undefined;
  for (const d of DIMENSIONS) {
    let overShare = 0;
    let heldOver = 0;
    usages.forEach((u, j) => {
      const share = shares[j + 1] ?? 0;
      if (u[d] > share * limits[d]) {
        overShare += share;
        heldOver += u[d];
      }
    });
    // What the nodes within their shares split: a node holding more is counted at what it holds.
    const perShare = overShare >= 1 ? 0 : Math.max(0, limits[d] - heldOver) / (1 - overShare);
    allowance[d] = own * perShare;
    if (peers.recentlyHadPeers(now)) allowance[d] = Math.min(allowance[d], (SAFETY * limits[d]) / peers.recentFleetSize());
    const capped = own < (shares[0] ?? 1) || allowance[d] < own * perShare;
    if (d === 'concurrency' && usages.length > 0 && !capped) seatParts = shares.map((share, i) => (i > 0 && usages[i - 1]![d] > share * limits[d] ? usages[i - 1]![d] : share * perShare));
  }
  return { allowance, seatParts };
}

/** Rounding slack: parts that add up to a whole number may miss it in floating point. */
const EPSILON = 1e-9;

/**
 * This node's whole seats of `parts` (every node's part of a concurrency limit, this node's
 * first) times `scale`, by largest remainder: each node has its part rounded down, and the seats
 * those roundings leave go to the largest remainders, so the seats still add up to the whole.
 * Each node's rounding down alone left up to a seat per node idle (with 20 seats over four nodes,
 * up to three). On a tie a node counts the peer ahead of itself, so the nodes never both take
 * the seat.
 */
export function wholeSeats(parts: readonly number[], scale: number): number {
  const own = (parts[0] ?? 0) * scale;
  const base = Math.floor(own + EPSILON);
  let total = 0;
  let floors = 0;
  for (const part of parts) {
    total += part * scale;
    floors += Math.floor(part * scale + EPSILON);
  }
  const spare = Math.floor(total + EPSILON) - floors;
  if (spare <= 0) return base;
  const remainder = own - base;
  let ahead = 0;
  for (let j = 1; j < parts.length; j++) {
    const part = parts[j]! * scale;
    if (part - Math.floor(part + EPSILON) >= remainder - EPSILON) ahead++;
  }
  return ahead < spare ? base + 1 : base;
}

/**
 * A peer that, by its last report, holds less than its part of what a pool may use fleet-wide
 * (`fleetMay`) by at least `cost`: a request this node has no room for would be admitted there
 * (admission.ts, check 3), so it is worth handing back to the caller to send there. Drawn in
 * proportion to the room each has, so the nodes handing requests back at once do not all send
 * them to the one roomiest peer. Its index in peer order, or -1 when no peer has room.
 */
export function peerWithRoom(ownDemand: number, peers: PeerBook, d: Dimension, cost: number, fleetMay: number, random: () => number): number {
  const shares = fleetShares(ownDemand, peers);
  const rooms = peers.peerUsages().map((u, j) => {
    const room = (shares[j + 1] ?? 0) * fleetMay - u[d];
    return room >= cost ? room : 0;
  });
  const total = rooms.reduce((a, b) => a + b, 0);
  if (total <= 0) return -1;
  let draw = random() * total;
  for (const [j, room] of rooms.entries()) {
    if (room > 0 && (draw -= room) < 0) return j;
  }
  return rooms.findLastIndex((room) => room > 0);
}

/**
 * How long after a report its peers are taken to have heard it: a share that grows with the
 * demand a report announces waits this long, until the peers whose shares shrank know. Digests
 * reach the peers in milliseconds, over the same connections as requests; the margin is for a
 * busy event loop. (Waiting for the next report instead held a node whose demand had just risen
 * to a tenth of its share for a whole gossip interval, and calm tenants queued behind it.)
 */
export const PROPAGATION_MS = 250;
/** Below this share of every limit the fleet has room enough for a share to grow before the next report. */
const ROOMY = 0.5;

/**
 * The cap on this node's share (`fleetAllowance`'s ceiling): the share the peers left it before
 * its last report, until they have heard that report. Where the fleet has room they are taken to
 * have heard it `until` (PROPAGATION_MS after the report); near the limit, only at the next
 * report, since a peer whose busy event loop still holds the digest may be using its old, larger
 * share (a CI run saw 41 asked of 40).
 */
export function shareCap(ceiling: number, until: number, fleetUsage: Amounts, limits: Amounts, now: number): number {
  if (now < until) return ceiling;
  return DIMENSIONS.some((d) => fleetUsage[d] > ROOMY * limits[d]) ? ceiling : 1;
}
