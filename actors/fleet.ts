/**
 * The health actors of one router node: one per vendor-region and one per deployment, each a
 * health machine, plus the live counts routing needs (in flight, probes). Turns their snapshots
 * into the deployment views the strategies choose over.
 */
import { createActor, type Actor, type ActorOptions } from 'xstate';
import type { Config, Deployment } from '../src/config/index.js';
import type { Vendor } from '../src/domain/index.js';
import type { DeploymentView, HealthState } from '../src/routing/index.js';
import { PRIOR_TTFT_MS } from '../src/routing/index.js';
import { ewmaAt, percentile } from '../machines/estimators.js';
import { healthMachine, type HealthEvent, type HealthPolicy } from '../machines/health.machine.js';

type HealthActor = Actor<typeof healthMachine>;
/** xstate's clock: the real one by default, a SimulatedClock in tests. */
export type MachineClock = ActorOptions<typeof healthMachine>['clock'];

/** Ordered from best to worst: a deployment is as bad as the worse of itself and its vendor-region. */
const SEVERITY: HealthState[] = ['healthy', 'degraded', 'halfOpen', 'open', 'drained'];

/** Vendors whose Claude deployments take an assistant prefill (a stream can resume there). */
const PREFILL_VENDORS: readonly Vendor[] = ['anthropic', 'bedrock', 'vertex'];

export interface FleetOptions {
  policy?: Partial<HealthPolicy>;
  clock?: MachineClock;
  now?: () => number;
  seed?: number;
}

export class Fleet {
  private readonly vendorRegions = new Map<string, HealthActor>();
  private readonly deployments = new Map<string, { actor: HealthActor; deployment: Deployment; vendor: Vendor }>();
  private readonly inFlight = new Map<string, number>();
  readonly now: () => number;

  constructor(
    private readonly config: Config,
    options: FleetOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    let seed = options.seed ?? 1;
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
      entry.actor.send(event);
      region?.send(event);
    } else if (scope === 'vendor_region') region?.send(event);
    else entry.actor.send(event);
  }

  sendToVendorRegion(vendorRegion: string, event: HealthEvent): void {
    this.vendorRegions.get(vendorRegion)?.send(event);
  }

  begin(deploymentId: string): void {
    this.inFlight.set(deploymentId, (this.inFlight.get(deploymentId) ?? 0) + 1);
  }

  end(deploymentId: string): void {
    this.inFlight.set(deploymentId, Math.max(0, (this.inFlight.get(deploymentId) ?? 0) - 1));
  }

  /** A half-open deployment (or vendor-region) lets a few probes through; taking one is recorded. */
  takeProbe(deploymentId: string): void {
    const entry = this.deployments.get(deploymentId);
    if (!entry) return;
    const at = this.now();
    if (entry.actor.getSnapshot().value === 'halfOpen') entry.actor.send({ type: 'probe.taken', at });
    const region = this.vendorRegions.get(entry.deployment.vendorRegion);
    if (region?.getSnapshot().value === 'halfOpen') region.send({ type: 'probe.taken', at });
  }

  state(deploymentId: string): HealthState | undefined {
    const entry = this.deployments.get(deploymentId);
    if (!entry) return undefined;
    const own = stateOf(entry.actor);
    const region = this.vendorRegions.get(entry.deployment.vendorRegion);
    const regional = region ? stateOf(region) : 'healthy';
    return SEVERITY.indexOf(regional) > SEVERITY.indexOf(own) ? regional : own;
  }

  view(deploymentId: string): DeploymentView | undefined {
    const entry = this.deployments.get(deploymentId);
    if (!entry) return undefined;
    const now = this.now();
    const own = entry.actor.getSnapshot().context;
    const region = this.vendorRegions.get(entry.deployment.vendorRegion)?.getSnapshot();
    const state = this.state(deploymentId) ?? 'open';
    const ownProbe = entry.actor.getSnapshot().value !== 'halfOpen' || own.probesLeft > 0;
    const regionProbe = region?.value !== 'halfOpen' || region.context.probesLeft > 0;
    const probeAvailable = state === 'halfOpen' && ownProbe && regionProbe;
    const inFlight = this.inFlight.get(deploymentId) ?? 0;
    const ramp = own.rampStartedAt === undefined ? 1 : Math.min(1, Math.max(0.05, (now - own.rampStartedAt) / own.policy.rampMs));
    return {
      id: entry.deployment.id,
      model: entry.deployment.model,
      vendorRegion: entry.deployment.vendorRegion,
      vendor: entry.vendor,
      state,
      ttftMs: ewmaAt(own.ttft, now, PRIOR_TTFT_MS),
      tokensPerSecond: own.tokensPerSecond,
      inFlight,
      headroom: entry.deployment.quota.concurrency - inFlight,
      ramp,
      probeAvailable,
      throttledUntil: own.throttledUntil,
      badness: own.consecutiveFaults + own.openings * 10 + (region?.context.openings ?? 0) * 10,
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

  /** Recent p95 time to first token of a deployment; hedges start after it. */
  p95TtftMs(deploymentId: string): number | undefined {
    const entry = this.deployments.get(deploymentId);
    return entry ? percentile(entry.actor.getSnapshot().context.ttftSamples, 0.95) : undefined;
  }

  /** Every health actor's state, for status and tests. */
  snapshot(): { vendorRegions: Record<string, HealthState>; deployments: Record<string, HealthState> } {
    return {
      vendorRegions: Object.fromEntries([...this.vendorRegions].map(([id, a]) => [id, stateOf(a)])),
      deployments: Object.fromEntries([...this.deployments].map(([id, e]) => [id, stateOf(e.actor)])),
    };
  }

  stop(): void {
    for (const actor of this.vendorRegions.values()) actor.stop();
    for (const { actor } of this.deployments.values()) actor.stop();
  }
}

function stateOf(actor: HealthActor): HealthState {
  const value = actor.getSnapshot().value;
  // The transient judging states settle within the same event; report them as where they came from.
  if (value === 'judging') return 'healthy';
  if (value === 'judgingDegraded') return 'degraded';
  return value;
}

