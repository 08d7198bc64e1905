/**
 * One router node's book of capacity: every reservation it holds, per deployment, pool and
 * tenant, what the peers' digests say they use, and the limits learned from the vendors. A request
 * is admitted here before its attempt is sent, and its reservation is released exactly once
 * however the request ends: `release` is idempotent, and the request's owner key releases
 * whatever a request still holds when it ends (a choice made and never sent, a hedge that lost).
 *
 * Time comes in through `now`, so this is as deterministic as the clock handed to it.
 */
import { PRIORITIES, type Priority } from '../domain/index.js';
import type { Config, Deployment } from '../config/index.js';
import { judgeAdmission, type Refusal } from './admission.js';
import { DEFAULT_LEARNING, LearnedLimits, ZERO, type Amounts, type LearningPolicy } from './limits.js';
import { poolRules, SHARED_POOL, type PoolRule } from './pools.js';
import { fleetAllowance, fleetShares, PeerBook, PROPAGATION_MS, peerWithRoom, shareCap, type PeerCapacity, type PeerReport } from './peers.js';
import { VendorWord, type RemainingHints } from './vendor-word.js';
import { TenantBook } from './tenant-book.js';
import { add, demandAt, onWire, round, roundAll, scaleBy, sum, Usage, withArrival, type DemandRate } from './usage.js';

/** Weight of each release in the seat-time average. */
const SEAT_EWMA = 0.1;

export interface CapacityOptions {
  now?: () => number;
  /** Draws which peer a request is handed back to; seeded in tests. */
  random?: () => number;
  /** The vendors' rate window (a minute); shorter only in tests. */
  windowMs?: number;
  learning?: Partial<LearningPolicy>;
}

export interface AdmissionRequest {
  deployment: string;
  pool: string;
  priority: Priority;
  tenant: { name: string; maxShare: number };
  /** Estimated tokens (input plus what the output may take). */
  tokens: number;
  /** The request this reservation belongs to; `releaseOwner` frees whatever it still holds. */
  owner: string;
  /**
   * A request asking again after waiting is no new demand: counted, its retries would swing this
   * node's share with every release that wakes it, and the fleet's shares would stop adding up.
   */
  again?: boolean | undefined;
  /**
   * The caller can send the request to another node (it came over the bus and has not been
   * handed back too often): a refusal that a peer's part has room for says so (`elsewhere`).
   */
  handBack?: boolean | undefined;
}

export interface Reservation {
  readonly id: string;
  readonly deployment: string;
  readonly pool: string;
  readonly tenant: string;
  readonly owner: string;
  tokens: number;
  readonly at: number;
  released: boolean;
  /** Taken by an attempt that is calling the vendor: that attempt releases it when its call settles. */
  claimed: boolean;
}

/** Refused: `elsewhere` when a peer, by its last report, has room for it; `peer` names it where its report did. */
export type AdmitResult =
  | { ok: true; reservation: Reservation }
  | { ok: false; refusal: Refusal | 'unknown_deployment'; retryAfterMs: number; elsewhere?: boolean; peer?: string };

export interface DeploymentCapacityStats {
  admitted: number;
  released: number;
  refused: Record<Refusal, number>;
  shedByPriority: Record<Priority, number>;
  /** Admissions that spent another (lower) pool's reserve, by borrowing pool. */
  borrowed: Record<string, number>;
}

interface Book {
  deployment: Deployment;
  rules: PoolRule[];
  limits: LearnedLimits;
  own: Map<string, Usage>;
  tenants: TenantBook;
  peers: PeerBook;
  vendorWord: VendorWord;
  /**
   * Our demand as the peers last heard it. Shares are computed from what every node has told the
   * others, so they add up to 1: our live demand against the peers' reported ones would not.
   */
  demandAtReference: number;
  /**
   * Our share as the peers left it before our last report, which caps ours until they have heard
   * that report (`ceilingUntil`; peers.ts `fleetAllowance`).
   */
  shareCeiling: number;
  ceilingUntil: number;
  demand: DemandRate;
  /** How long a reservation is held, lately (an EWMA; 0 before the first release). */
  seatMs: number;
  /** Per pool, when a request of each priority (in PRIORITIES order) last asked for this deployment. */
  lastAsked: Map<string, number[]>;
  stats: DeploymentCapacityStats;
}

export class CapacityLedger {
  private readonly books = new Map<string, Book>();
  private readonly reservations = new Map<string, Reservation>();
  private readonly byOwner = new Map<string, Set<Reservation>>();
  private readonly releaseListeners = new Set<(deployment: string, tenant: string) => void>();
  private nextId = 0;
  readonly now: () => number;
  readonly windowMs: number;
  private readonly random: () => number;

  constructor(config: Config, options: CapacityOptions = {}) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.windowMs = options.windowMs ?? 60_000;
    const learning = { ...DEFAULT_LEARNING, ...options.learning };
    for (const vr of Object.values(config.vendorRegions)) {
      for (const deployment of Object.values(vr.deployments)) {
        const q = deployment.quota;
        this.books.set(deployment.id, {
          deployment,
          rules: poolRules(config, deployment.id),
          limits: new LearnedLimits({ concurrency: q.concurrency, rpm: q.rpm, tpm: q.tpm }, learning),
          own: new Map(),
          tenants: new TenantBook(this.windowMs),
          peers: new PeerBook(),
          vendorWord: new VendorWord(),
          demandAtReference: 0,
          shareCeiling: 1,
          ceilingUntil: -Infinity,
          seatMs: 0,
          demand: { rate: 0, at: this.now() },
          lastAsked: new Map(),
          stats: { admitted: 0, released: 0, refused: { pool: 0, priority: 0, tenant: 0, tenant_share: 0, fleet_share: 0, vendor_word: 0 }, shedByPriority: { critical: 0, high: 0, standard: 0, batch: 0 }, borrowed: {} },
        });
      }
    }
  }

  private usage(map: Map<string, Usage>, key: string): Usage {
    let usage = map.get(key);
    if (!usage) map.set(key, (usage = new Usage(this.windowMs)));
    return usage;
  }

  private ownTotal(book: Book, now: number): Amounts {
    const total = { ...ZERO };
    for (const usage of book.own.values()) add(total, usage.amounts(now));
    return total;
  }

  /** Admits a request on a deployment or says why not; an admitted request holds its reservation until released. */
  admit(request: AdmissionRequest): AdmitResult {
    const book = this.books.get(request.deployment);
    if (!book) return { ok: false, refusal: 'unknown_deployment', retryAfterMs: 1000 };
    const now = this.now();

    const pool = book.rules.find((r) => r.name === request.pool) ?? book.rules.at(-1)!;
    // Priority sheds within a pool: only more important requests of the same pool hold headroom back.
    let asked = book.lastAsked.get(pool.name);
    if (!asked) book.lastAsked.set(pool.name, (asked = PRIORITIES.map(() => -Infinity)));
    const rank = PRIORITIES.indexOf(request.priority);
    asked[rank] = now;
    const higherPriorityActive = asked.some((at, i) => i < rank && now - at < this.windowMs);
    const fleetUsage = new Map<string, Amounts>();
    for (const rule of book.rules) {
      const own = book.own.get(rule.name)?.amounts(now) ?? ZERO;
      fleetUsage.set(rule.name, sum(own, book.peers.usage(rule.name)));
    }
    // Tenants fleet-wide: ours live, the peers' as last reported; and this node's part where it must keep to one.
    const tenant = request.tenant.name;
    if (!request.again) book.tenants.arrived(pool.name, tenant, now);
    const tenantUsage = sum(book.tenants.existing(pool.name, tenant)?.amounts(now) ?? ZERO, book.peers.tenants(pool.name).get(tenant) ?? ZERO);
    const othersActive = book.tenants.othersActive(pool.name, tenant, now, book.peers);
    const split = othersActive ? book.tenants.split(pool.name, tenant, now, book.peers, book.seatMs) : undefined;
    const cost = { concurrency: 1, rpm: 1, tpm: request.tokens };
    const limits = book.limits.current(now);
    const own = this.ownTotal(book, now);
    const verdict = judgeAdmission({
      limits,
      rules: book.rules,
      usage: fleetUsage,
      pool,
      priority: request.priority,
      higherPriorityActive,
      cost,
      tenant: { maxShare: request.tenant.maxShare, usage: tenantUsage, othersActive, split },
      fleet: { ...fleetAllowance(book.demandAtReference, book.peers, limits, now, shareCap(book.shareCeiling, book.ceilingUntil, sum(own, book.peers.total()), limits, now)), own },
    });
    // Demand is what this node would send if it could: a request its tenant's share, or the
    // tenant's part of it here, held back is none of it (a larger share of the deployment would
    // not admit it; the tenant's demand here grows its part, tenant-book.ts). Counted, a flood of
    // one tenant at the nodes its clients are near would take the others' shares of the
    // deployment there, and the calm tenants elsewhere would wait.
    const wanted = verdict.ok || !(verdict.refusal === 'tenant' || verdict.refusal === 'tenant_share');
    if (!request.again && wanted) book.demand = withArrival(book.demand, now);
    const word = verdict.ok ? book.vendorWord.judge(request.tokens, this.shareOf(book), now) : undefined;
    if (word && !word.ok) {
      book.stats.refused.vendor_word++;
      return { ok: false, refusal: 'vendor_word', retryAfterMs: Math.max(1, Math.ceil(word.retryAfterMs)) };
    }
    if (!verdict.ok) {
      book.stats.refused[verdict.refusal]++;
      if (verdict.refusal === 'priority') book.stats.shedByPriority[request.priority]++;
      const usage = book.own.get(pool.name);
      const retryAfterMs = verdict.dimension === 'concurrency' || !usage ? 1000 : (verdict.dimension === 'rpm' ? usage.requests : usage.tokens).msUntilRoom(now) || 1000;
      const peer = request.handBack === true && verdict.fleetMay !== undefined ? peerWithRoom(book.demandAtReference, book.peers, verdict.dimension, cost[verdict.dimension], verdict.fleetMay, this.random) : -1;
      const node = peer < 0 ? undefined : book.peers.nodeAt(peer);
      const elsewhere = peer < 0 ? {} : { elsewhere: true, ...(node !== undefined ? { peer: node } : {}) };
      return { ok: false, refusal: verdict.refusal, retryAfterMs: Math.min(retryAfterMs, this.windowMs), ...elsewhere };
    }
    for (const usage of [this.usage(book.own, pool.name), book.tenants.usage(pool.name, tenant, now)]) {
      usage.inFlight++;
      usage.requests.add(1, now);
      usage.tokens.add(request.tokens, now);
    }
    book.vendorWord.spend(request.tokens, now);
    book.stats.admitted++;
    if (verdict.borrowed) book.stats.borrowed[pool.name] = (book.stats.borrowed[pool.name] ?? 0) + 1;
    const reservation: Reservation = { id: `r${++this.nextId}`, deployment: request.deployment, pool: pool.name, tenant: request.tenant.name, owner: request.owner, tokens: request.tokens, at: now, released: false, claimed: false };
    this.reservations.set(reservation.id, reservation);
    let owned = this.byOwner.get(request.owner);
    if (!owned) this.byOwner.set(request.owner, (owned = new Set()));
    owned.add(reservation);
    return { ok: true, reservation };
  }

  /** The reservation of this id, while it is held. */
  held(id: string): Reservation | undefined {
    return this.reservations.get(id);
  }

  /** Replaces the estimate by the tokens really used, in the window the request was counted in. */
  settle(reservation: Reservation, tokens: number): void {
    const book = this.books.get(reservation.deployment);
    if (!book || reservation.released || !(tokens >= 0)) return;
    const delta = tokens - reservation.tokens;
    reservation.tokens = tokens;
    book.own.get(reservation.pool)?.tokens.add(delta, reservation.at);
    book.tenants.existing(reservation.pool, reservation.tenant)?.tokens.add(delta, reservation.at);
  }

  /** Ends a reservation's hold on concurrency; a second call does nothing. The window counts stay. */
  release(reservation: Reservation): void {
    if (reservation.released) return;
    reservation.released = true;
    this.reservations.delete(reservation.id);
    const owned = this.byOwner.get(reservation.owner);
    owned?.delete(reservation);
    if (owned?.size === 0) this.byOwner.delete(reservation.owner);
    const book = this.books.get(reservation.deployment);
    if (!book) return;
    book.stats.released++;
    const heldMs = Math.max(0, this.now() - reservation.at);
    book.seatMs = book.seatMs === 0 ? heldMs : book.seatMs + SEAT_EWMA * (heldMs - book.seatMs);
    for (const usage of [book.own.get(reservation.pool), book.tenants.existing(reservation.pool, reservation.tenant)]) {
      if (usage) usage.inFlight = Math.max(0, usage.inFlight - 1);
    }
    for (const listener of this.releaseListeners) listener(reservation.deployment, reservation.tenant);
  }

  /**
   * Releases whatever the owner (a request that has ended) still holds, except reservations an
   * attempt has claimed: the vendor counts those until their call settles, and the attempt
   * releases them then (its call always settles: aborted, or cut by the idle timeout).
   */
  releaseOwner(owner: string): void {
    for (const reservation of [...(this.byOwner.get(owner) ?? [])]) if (!reservation.claimed) this.release(reservation);
  }

  /** An attempt takes the reservation to call the vendor; it must release it when the call settles. */
  claim(reservation: Reservation): void {
    reservation.claimed = true;
  }

  /** Calls `listener` with the deployment and tenant whenever a reservation is released. Returns the unsubscribe. */
  onRelease(listener: (deployment: string, tenant: string) => void): () => void {
    this.releaseListeners.add(listener);
    return () => this.releaseListeners.delete(listener);
  }

  /** Reservations held now, over all deployments. */
  outstanding(): number {
    return this.reservations.size;
  }

  /** This node's requests in flight on a deployment. */
  inFlight(deploymentId: string): number {
    let total = 0;
    for (const usage of this.books.get(deploymentId)?.own.values() ?? []) total += usage.inFlight;
    return total;
  }

  /** What the fleet has in flight there (the peers' last word plus ours). */
  fleetInFlight(deploymentId: string): number {
    const book = this.books.get(deploymentId);
    return book ? this.inFlight(deploymentId) + book.peers.total().concurrency : 0;
  }

  limits(deploymentId: string): Amounts | undefined {
    return this.books.get(deploymentId)?.limits.current(this.now());
  }

  /** A vendor 429: the limit of the busiest dimension drops to just under what the fleet was using. */
  throttled(deploymentId: string): void {
    const book = this.books.get(deploymentId);
    if (!book) return;
    const now = this.now();
    book.limits.throttled(sum(this.ownTotal(book, now), book.peers.total()), now);
  }

  /** What the vendor's rate-limit headers said: its limits, and what is left of the window. */
  heard(deploymentId: string, hints: { requestsLimit?: number | undefined; tokensLimit?: number | undefined } & RemainingHints): void {
    const book = this.books.get(deploymentId);
    book?.limits.heard(hints);
    book?.vendorWord.heard(hints, this.now());
  }

  /** Requests this node may still send before the vendor's window resets, by what it said; Infinity when it said nothing current. */
  vendorRequestsLeft(deploymentId: string): number {
    const book = this.books.get(deploymentId);
    return book ? book.vendorWord.requestsLeft(this.shareOf(book), this.now()) : Infinity;
  }

  private shareOf(book: Book): number {
    return book.peers.count() === 0 ? 1 : (fleetShares(book.demandAtReference, book.peers)[0] ?? 1);
  }

  /** The peers' latest capacity reports per deployment (one per peer); replaces what was there. */
  applyPeers(reports: ReadonlyMap<string, readonly PeerReport[]>): void {
    const now = this.now();
    for (const [id, book] of this.books) {
      const peerReports = reports.get(id) ?? [];
      book.peers.replace(peerReports, now);
      for (const report of peerReports) if (report.limits) book.limits.agree(report.limits, now);
    }
  }

  /**
   * What this node tells its peers about a deployment's capacity. The demand it reports is the
   * one its own share is computed from until the next report, so all nodes split by the same
   * numbers.
   */
  report(deploymentId: string): PeerCapacity | undefined {
    const book = this.books.get(deploymentId);
    if (!book) return undefined;
    const now = this.now();
    const limits = book.limits.current(now);
    book.shareCeiling = book.peers.count() === 0 ? 1 : (fleetShares(book.demandAtReference, book.peers)[0] ?? 1);
    book.ceilingUntil = now + PROPAGATION_MS;
    book.demandAtReference = round(demandAt(book.demand, now));
    return {
      demand: book.demandAtReference,
      limits: { concurrency: Math.floor(limits.concurrency), rpm: Math.floor(limits.rpm), tpm: Math.floor(limits.tpm) },
      // A pool whose tenants have only been refused here still reports them: their demand is what splits their shares.
      pools: [...new Set([...book.own.keys(), ...book.tenants.pools()])].map((pool) => {
        const tenants = book.tenants.report(pool, now);
        return { pool, ...onWire(book.own.get(pool)?.amounts(now) ?? ZERO), ...(tenants.length > 0 ? { tenants } : {}) };
      }),
    };
  }

  /** Capacity per deployment and pool, for `switchyard status`. */
  status(): Record<string, DeploymentCapacityStatus> {
    const now = this.now();
    const out: Record<string, DeploymentCapacityStatus> = {};
    for (const [id, book] of this.books) {
      const limits = book.limits.current(now);
      out[id] = {
        configured: book.limits.configured,
        learned: { concurrency: Math.floor(limits.concurrency), rpm: Math.floor(limits.rpm), tpm: Math.floor(limits.tpm) },
        share: round(fleetShares(book.demandAtReference, book.peers)[0] ?? 1),
        pools: Object.fromEntries(
          book.rules.map((rule) => {
            const own = book.own.get(rule.name)?.amounts(now) ?? ZERO;
            const fleet = sum(own, book.peers.usage(rule.name));
            return [rule.name, { reserved: scaleBy(limits, rule.reserve), used: roundAll(fleet), own: roundAll(own), borrowed: book.stats.borrowed[rule.name] ?? 0 }];
          }),
        ),
        ...book.stats,
      };
    }
    return out;
  }
}

export interface DeploymentCapacityStatus extends DeploymentCapacityStats {
  configured: Amounts;
  learned: Amounts;
  share: number;
  pools: Record<string, { reserved: Amounts; used: Amounts; own: Amounts; borrowed: number }>;
}

export { SHARED_POOL };
