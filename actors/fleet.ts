/**
 * The health actors of one router node: one per vendor-region and one per deployment, each a
 * health machine, plus the node's capacity ledger (src/capacity: reservations, learned limits,
 * the peers' usage). Feeds them outcomes and the peers' digests (fault counts, verdicts), and
 * hands out their views (fleet-view.ts) and digests (fleet-digest.ts); the peers' digests are
 * merged in fleet-merge.ts and the prober elected in prober.ts.
 */
import { randomInt } from 'node:crypto';
import { createActor, type ActorOptions } from 'xstate';
import { CapacityLedger, SHARED_POOL, type CapacityOptions, type PeerReport } from '../src/capacity/index.js';
import type { Config, Deployment } from '../src/config/index.js';
import { worseHealth, type Vendor } from '../src/domain/index.js';
import type { DeploymentView, HealthState, ViewLookup } from '../src/routing/index.js';
import { percentile } from '../machines/estimators.js';
import { healthMachine, type HealthEvent, type HealthPolicy, type SuccessSample } from '../machines/health.machine.js';
import type { DeploymentDigest, Digest, WindowCounts } from '../src/transport/gossip-schema.js';
import { digestOf, stateOf, type HealthActor } from './fleet-digest.js';
import { viewOf } from './fleet-view.js';
import { electedProber } from './prober.js';
import { mergePeerDigests, NO_PEER_COUNTS, samePeerCounts, windowCounts, type PeerCounts, type PeerDeployment } from './fleet-merge.js';

/** xstate's clock: the real one by default, a SimulatedClock in tests. */
export type MachineClock = ActorOptions<typeof healthMachine>['clock'];


/** Vendors whose Claude deployments take an assistant prefill (a stream can resume there). */
const PREFILL_VENDORS: readonly Vendor[] = ['anthropic', 'bedrock', 'vertex'];

export interface FleetOptions {
  policy?: Partial<HealthPolicy>;
  clock?: MachineClock;
  now?: () => number;
  /**
   * Seeds the breakers' jitter. Fixed in tests; otherwise fresh per node, since nodes seeded alike
   * (they were, 1, 2, 3…) back off alike: six new nodes all probed at exactly 27.6 s.
   */
  seed?: number;
  capacity?: Omit<CapacityOptions, 'now'>;
}

export class Fleet {
  private readonly vendorRegions = new Map<string, HealthActor>();
  private readonly deployments = new Map<string, { actor: HealthActor; deployment: Deployment; vendor: Vendor }>();
  /** Capacity signals per actor id, inside the window: the health context keeps no separate count of them. */
  private readonly throttles = new Map<string, number[]>();
  /** What the peers' digests say per deployment, as of the last applyPeerDigests. */
  private peerDeployments = new Map<string, PeerDeployment>();
  /** The peer counts each actor was last sent, so an unchanged sum sends nothing. */
  private readonly sentPeerCounts = new Map<HealthActor, PeerCounts>();
  /** Successes heard this turn, per healthy actor: sent as one `outcome.successes` (sendHeldSuccesses). */
  private readonly heldSuccesses = new Map<HealthActor, SuccessSample[]>();
  /** Vendor-regions this node cannot call (credentials missing here), with why. */
  private readonly unusable = new Map<string, string>();
  private readonly unusableListeners = new Set<(vendorRegion: string) => void>();
  /** This node's id, as gossip names it; until gossip starts the node is alone and probes itself. */
  private nodeId = '';
  /** Per vendor-region, the live peers that gossip about it: the candidates to probe it. */
  private peersByVendorRegion = new Map<string, Set<string>>();
  /** Per deployment, the peers' verdicts already acted on (`node:opened@at`), so each counts once. */
  private readonly heardVerdicts = new Map<string, Set<string>>();
  readonly now: () => number;
  /** Every reservation this node holds, and what it knows of the fleet's usage and the vendors' real limits. */
  readonly capacity: CapacityLedger;

  constructor(
    private readonly config: Config,
    options: FleetOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.capacity = new CapacityLedger(config, { ...options.capacity, now: this.now });
    let seed = options.seed ?? randomInt(1, 2 ** 31);
    const start = (id: string) =>
      createActor(healthMachine, { input: { id, policy: options.policy, seed: seed++, now: this.now() }, ...(options.clock ? { clock: options.clock } : {}) }).start();
    for (const vr of Object.values(config.vendorRegions)) {
      this.vendorRegions.set(vr.id, start(vr.id));
      for (const d of Object.values(vr.deployments)) this.deployments.set(d.id, { actor: start(d.id), deployment: d, vendor: vr.vendor });
    }
  }

  deployment(id: string): Deployment | undefined {
    return this.deployments.get(id)?.deployment;
  }

  /** Whether a stream there can resume on another deployment with an assistant prefill. */
  takesPrefill(id: string): boolean {
    const entry = this.deployments.get(id);
    if (!entry) return false;
    const family = this.config.models[entry.deployment.model]?.family ?? entry.deployment.model;
    return PREFILL_VENDORS.includes(entry.vendor) && family.toLowerCase().startsWith('claude');
  }

  /**
   * Sends a health event to the deployment, or, for connection-level facts, to its vendor-region.
   * A success is news for both: the vendor-region was reachable, and it counts in its fault rate.
   */
  report(deploymentId: string, event: HealthEvent, scope: 'deployment' | 'vendor_region' = 'deployment'): void {
    const entry = this.deployments.get(deploymentId);
    if (!entry) return;
    const region = this.vendorRegions.get(entry.deployment.vendorRegion);
    if (event.type === 'outcome.success') {
      this.success(entry.actor, event);
      if (region) this.success(region, event);
    } else if (scope === 'vendor_region') this.sendToVendorRegion(entry.deployment.vendorRegion, event);
    else {
      this.noteThrottle(deploymentId, entry.actor, event);
      this.send(entry.actor, event);
    }
  }

  sendToVendorRegion(vendorRegion: string, event: HealthEvent): void {
    const region = this.vendorRegions.get(vendorRegion);
    if (!region) return;
    this.noteThrottle(vendorRegion, region, event);
    this.send(region, event);
  }

  /**
   * Two successes a request, each an xstate event with its snapshot and context copy, were a good
   * part of a busy node's work (issue 12). A healthy actor's success changes nothing but the
   * record, so those wait for the end of the turn and go as one event; a success that may close
   * a breaker (degraded, half-open, a probe) goes at once.
   */
  private success(actor: HealthActor, event: Extract<HealthEvent, { type: 'outcome.success' }>): void {
    if (event.probe || actor.getSnapshot().value !== 'healthy') return this.send(actor, event);
    let held = this.heldSuccesses.get(actor);
    if (!held) {
      if (this.heldSuccesses.size === 0) setImmediate(this.sendHeldSuccesses);
      this.heldSuccesses.set(actor, (held = []));
    }
    held.push({ at: event.at, ttftMs: event.ttftMs, tokensPerSecond: event.tokensPerSecond });
  }

  /** Every other event waits for the successes before it: the machine hears them in order, still healthy. */
  private send(actor: HealthActor, event: HealthEvent): void {
    this.sendHeldSuccesses();
    actor.send(event);
  }

  /**
   * Sends the successes held this turn. Routing reads (view, views, p95TtftMs) do not wait for
   * it: each request reads them, and would send every success alone again; a record at most one
   * turn old routes as well. Counts and digests, which peers and operators read, send them first.
   */
  readonly sendHeldSuccesses = (): void => {
    if (this.heldSuccesses.size === 0) return;
    const held = [...this.heldSuccesses];
    this.heldSuccesses.clear();
    for (const [actor, samples] of held) actor.send({ type: 'outcome.successes', samples });
  };

  private noteThrottle(id: string, actor: HealthActor, event: HealthEvent): void {
    if (event.type !== 'outcome.failure' || event.failureClass !== 'capacity') return;
    if (this.deployments.has(id)) this.capacity.throttled(id);
    const since = event.at - actor.getSnapshot().context.policy.windowMs;
    this.throttles.set(id, [...(this.throttles.get(id) ?? []).filter((at) => at > since), event.at]);
  }

  /** A half-open deployment (or vendor-region) lets a few probes through; taking one is recorded. */
  takeProbe(deploymentId: string): void {
    const entry = this.deployments.get(deploymentId);
    if (!entry) return;
    const at = this.now();
    if (entry.actor.getSnapshot().value === 'halfOpen') this.send(entry.actor, { type: 'probe.taken', at });
    const region = this.vendorRegions.get(entry.deployment.vendorRegion);
    if (region?.getSnapshot().value === 'halfOpen') this.send(region, { type: 'probe.taken', at });
  }

  /**
   * Takes a vendor-region out of this node's routing for good (until restart): its credentials are
   * missing here. Peers are not told it failed, since the vendor did nothing wrong.
   */
  markUnusable(vendorRegion: string, reason: string): void {
    if (!this.vendorRegions.has(vendorRegion) || this.unusable.has(vendorRegion)) return;
    this.unusable.set(vendorRegion, reason);
    for (const listener of this.unusableListeners) listener(vendorRegion);
  }

  /** Vendor-regions this node cannot call, and why. */
  unusableVendorRegions(): Record<string, string> {
    return Object.fromEntries(this.unusable);
  }

  state(deploymentId: string): HealthState | undefined {
    const entry = this.deployments.get(deploymentId);
    if (!entry) return undefined;
    if (this.unusable.has(entry.deployment.vendorRegion)) return 'unusable';
    const own = stateOf(entry.actor);
    const region = this.vendorRegions.get(entry.deployment.vendorRegion);
    const regional = region ? stateOf(region) : 'healthy';
    return worseHealth(own, regional);
  }

  /** When an open deployment's own breaker lets probes through again (epoch ms); undefined unless open. */
  reopensAt(deploymentId: string): number | undefined {
    const snapshot = this.deployments.get(deploymentId)?.actor.getSnapshot();
    if (snapshot?.value !== 'open') return undefined;
    const { openedAt, openMs } = snapshot.context.breaker;
    return openedAt === undefined ? undefined : openedAt + openMs;
  }

  view(deploymentId: string): DeploymentView | undefined {
    const entry = this.deployments.get(deploymentId);
    if (!entry) return undefined;
    const { vendorRegion } = entry.deployment;
    // Fields named one by one: V8 built this input after a spread of `entry` property by
    // property on a slow path, 8 of the 10 µs a view took.
    return viewOf({
      actor: entry.actor,
      deployment: entry.deployment,
      vendor: entry.vendor,
      region: this.vendorRegions.get(vendorRegion),
      state: this.state(deploymentId) ?? 'open',
      probes: (actorId) => this.probes(actorId, vendorRegion),
      peer: this.peerDeployments.get(deploymentId),
      capacity: this.capacity,
      now: this.now(),
    });
  }

  /** Whether this node is the one that probes this actor (a deployment or vendor-region) while it is half-open. */
  probes(actorId: string, vendorRegion: string): boolean {
    const peers = this.peersByVendorRegion.get(vendorRegion);
    return !peers || peers.size === 0 || electedProber(actorId, this.nodeId, peers) === this.nodeId;
  }

  /**
   * Views made as routing asks for them, each at most once: a request pays for the deployments
   * its routes name, not for every deployment of the fleet (all of them, per request, before).
   */
  viewLookup(): ViewLookup {
    const made = new Map<string, DeploymentView | undefined>();
    return {
      get: (id) => {
        if (made.has(id)) return made.get(id);
        const view = this.view(id);
        made.set(id, view);
        return view;
      },
    };
  }

  views(): Map<string, DeploymentView> {
    const views = new Map<string, DeploymentView>();
    for (const id of this.deployments.keys()) {
      const view = this.view(id);
      if (view) views.set(id, view);
    }
    return views;
  }

  /** A deployment's usual output pace (tokens/s), what the crawl guard compares a stream with; no whole view for one number. */
  tokensPerSecond(deploymentId: string): number | undefined {
    return this.deployments.get(deploymentId)?.actor.getSnapshot().context.tokensPerSecond;
  }

  /** Recent p95 time to first token of a deployment; hedges start after it. */
  p95TtftMs(deploymentId: string): number | undefined {
    const entry = this.deployments.get(deploymentId);
    return entry ? percentile(entry.actor.getSnapshot().context.ttftSamples, 0.95) : undefined;
  }

  vendorRegionIds(): string[] {
    return [...this.vendorRegions.keys()];
  }

  /** Requests this node has in flight, over all deployments: its load, as the heartbeat reports it. */
  localInFlight(): number {
    let total = 0;
    for (const id of this.deployments.keys()) total += this.capacity.inFlight(id);
    return total;
  }

  /** A deployment's window counts: this node's own, and the peers' sum its breaker last heard. */
  counts(deploymentId: string): { local: WindowCounts; peers: PeerCounts } | undefined {
    const entry = this.deployments.get(deploymentId);
    if (!entry) return undefined;
    this.sendHeldSuccesses();
    const context = entry.actor.getSnapshot().context;
    return { local: windowCounts(context.outcomes, this.throttles.get(deploymentId) ?? [], this.now(), context.policy.windowMs), peers: context.peers };
  }

  /**
   * Calls `listener` with the vendor-region whenever the state (not just the numbers) of its actor
   * or one of its deployments' actors changes: peers must hear of a change at once, not at the next
   * interval. Returns the unsubscribe.
   */
  onStateChange(listener: (vendorRegion: string) => void): () => void {
    const watch = (actor: HealthActor, vendorRegion: string) => {
      let last = stateOf(actor);
      return actor.subscribe(() => {
        const state = stateOf(actor);
        if (state === last) return;
        last = state;
        listener(vendorRegion);
      });
    };
    const subscriptions = [
      ...[...this.vendorRegions].map(([id, actor]) => watch(actor, id)),
      ...[...this.deployments.values()].map((e) => watch(e.actor, e.deployment.vendorRegion)),
    ];
    this.unusableListeners.add(listener);
    return () => {
      subscriptions.forEach((s) => s.unsubscribe());
      this.unusableListeners.delete(listener);
    };
  }

  /** This node's own evidence about one vendor-region, as gossip publishes it; none where it cannot call. */
  digest(vendorRegion: string, nodeId: string, seq: number): Digest | undefined {
    this.nodeId = nodeId;
    const region = this.vendorRegions.get(vendorRegion);
    if (!region || this.unusable.has(vendorRegion)) return undefined;
    this.sendHeldSuccesses();
    const deployments = [...this.deployments.values()].filter((e) => e.deployment.vendorRegion === vendorRegion);
    return digestOf({ nodeId, seq, now: this.now(), vendorRegion, region, deployments, capacity: this.capacity, throttles: this.throttles });
  }

  /**
   * Replaces what the peers say with this set of fresh digests (at most one per peer and
   * vendor-region; an empty set forgets every peer). Each breaker hears the new peer sum only when
   * it changed: re-judging on every digest would be an event storm for nothing.
   */
  applyPeerDigests(digests: readonly Digest[]): void {
    const merged = mergePeerDigests(digests);
    this.peerDeployments = merged.deployments;
    const reports = new Map<string, PeerReport[]>();
    for (const digest of digests) {
      // A peer that predates capacity reports still says what it has in flight.
      for (const d of digest.deployments) {
        const capacity = d.capacity ?? { demand: 0, pools: [{ pool: SHARED_POOL, inFlight: d.inFlight, requests: 0, tokens: 0 }] };
        reports.set(d.id, [...(reports.get(d.id) ?? []), { ...capacity, node: digest.node }]);
      }
    }
    this.capacity.applyPeers(reports);
    for (const digest of digests) {
      const region = this.vendorRegions.get(digest.vendorRegion);
      if (region) this.hearVerdict(digest.node, digest.vendorRegion, digest, region);
      for (const d of digest.deployments) {
        const entry = this.deployments.get(d.id);
        if (entry) this.hearVerdict(digest.node, d.id, d, entry.actor);
      }
    }
    const peersByVendorRegion = new Map<string, Set<string>>();
    for (const digest of digests) {
      let peers = peersByVendorRegion.get(digest.vendorRegion);
      if (!peers) peersByVendorRegion.set(digest.vendorRegion, (peers = new Set()));
      peers.add(digest.node);
    }
    this.peersByVendorRegion = peersByVendorRegion;
    for (const [id, actor] of this.vendorRegions) this.sendPeerCounts(actor, merged.vendorRegions.get(id) ?? NO_PEER_COUNTS);
    for (const [id, { actor }] of this.deployments) this.sendPeerCounts(actor, merged.deployments.get(id)?.counts ?? NO_PEER_COUNTS);
  }

  /**
   * A peer's own verdict on a deployment or vendor-region, acted on once per opening or recovery:
   * a strong opening opens ours, a recovery its probes found closes ours into the slow start.
   */
  private hearVerdict(node: string, id: string, verdict: Pick<DeploymentDigest, 'opened' | 'recovered'>, actor: HealthActor): void {
    if (!verdict.opened && !verdict.recovered) return;
    let heard = this.heardVerdicts.get(id);
    if (!heard) this.heardVerdicts.set(id, (heard = new Set()));
    const at = this.now();
    if (verdict.opened && !heard.has(`${node}:opened@${verdict.opened.at}`)) {
      heard.add(`${node}:opened@${verdict.opened.at}`);
      this.send(actor, { type: 'peer.opened', at, persistent: verdict.opened.reason === 'persistent' });
    }
    if (verdict.recovered && !heard.has(`${node}:recovered@${verdict.recovered.at}`)) {
      heard.add(`${node}:recovered@${verdict.recovered.at}`);
      this.send(actor, { type: 'peer.recovered', at });
    }
    // Bounded: a verdict older than the peer's latest few is never sent again.
    if (heard.size > 64) this.heardVerdicts.set(id, new Set([...heard].slice(-32)));
  }

  private sendPeerCounts(actor: HealthActor, counts: PeerCounts): void {
    if (samePeerCounts(this.sentPeerCounts.get(actor) ?? NO_PEER_COUNTS, counts)) return;
    this.sentPeerCounts.set(actor, counts);
    this.send(actor, { type: 'peer.counts', requests: counts.requests, faults: counts.faults });
  }

  /** Every vendor-region's state, and every deployment's as routing sees it (the worse of it and its vendor-region). */
  snapshot(): { vendorRegions: Record<string, HealthState>; deployments: Record<string, HealthState> } {
    return {
      vendorRegions: Object.fromEntries([...this.vendorRegions].map(([id, a]) => [id, this.unusable.has(id) ? 'unusable' : stateOf(a)])),
      deployments: Object.fromEntries([...this.deployments].map(([id, e]) => [id, this.state(id) ?? stateOf(e.actor)])),
    };
  }

  stop(): void {
    this.sendHeldSuccesses();
    for (const actor of this.vendorRegions.values()) actor.stop();
    for (const { actor } of this.deployments.values()) actor.stop();
  }
}
