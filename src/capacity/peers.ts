/**
 * What the other router nodes say they use of one deployment, and this node's share of its
 * headroom (reliability-algorithms.md §5.3, DRL's proportional share with a floor):
 *
 *   share_i = max(ε/N, d_i / Σ d_j), normalised so the shares add up to 1,
 *
 * where d is each node's recent demand there. A new node (no demand yet) starts at the floor.
 * When peers fall silent (gossip stale, or a peer dropped within the last RECENT_MS), the node
 * does not take the whole quota for itself: it keeps to SAFETY / N of the last fleet size N, as the
 * silent peers may still be sending.
 */
import { ZERO, type Amounts } from './limits.js';

/** One peer's capacity report for one deployment, as its digest carries it. */
export interface PeerCapacity {
  /** Requests per second that wanted the deployment there (a decayed rate). */
  demand: number;
  /** The limits that peer admits by (learned from the vendor). */
  limits?: Partial<Amounts> | undefined;
  pools: readonly { pool: string; inFlight: number; requests: number; tokens: number }[];
}

export const SHARE_FLOOR = 0.1;
const SAFETY = 0.8;
/** How long a fleet size is remembered after peers go quiet. */
const RECENT_MS = 30_000;

export class PeerBook {
  private byPool = new Map<string, Amounts>();
  private totals: Amounts = ZERO;
  private demands: number[] = [];
  private largest = 0;
  private largestAt = -Infinity;

  replace(reports: readonly PeerCapacity[], now: number): void {
    const byPool = new Map<string, Amounts>();
    const totals = { ...ZERO };
    for (const report of reports) {
      for (const p of report.pools) {
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
    this.totals = totals;
    this.demands = reports.map((r) => r.demand);
    if (reports.length >= this.largest || now - this.largestAt > RECENT_MS) {
      this.largest = reports.length;
      this.largestAt = now;
    }
    if (reports.length === this.largest) this.largestAt = now;
  }

  usage(pool: string): Amounts {
    return this.byPool.get(pool) ?? ZERO;
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

  /** Whether more peers than now were heard within RECENT_MS: some went silent and may still be sending. */
  recentlyHadPeers(now: number): boolean {
    return this.largest > this.demands.length && now - this.largestAt <= RECENT_MS;
  }

  recentFleetSize(): number {
    return this.largest + 1;
  }
}

/** This node's share of a deployment's headroom, 0..1. */
export function fleetShare(ownDemand: number, peers: PeerBook, now: number): number {
  const demands = [ownDemand, ...peers.peerDemands()];
  const n = demands.length;
  const total = demands.reduce((a, b) => a + b, 0);
  const raw = demands.map((d) => Math.max(SHARE_FLOOR / n, total > 0 ? d / total : 1 / n));
  const share = (raw[0] ?? 1) / raw.reduce((a, b) => a + b, 0);
  return peers.recentlyHadPeers(now) ? Math.min(share, SAFETY / peers.recentFleetSize()) : share;
}
