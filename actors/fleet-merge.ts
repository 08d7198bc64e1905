/**
 * The fleet view from peers' digests (docs/design.md §3): window counts are summed and latency
 * estimates averaged weighted by their samples (usage and in-flight are the capacity ledger's,
 * src/capacity). Pure functions over plain data, so the Fleet stays about its actors and the
 * arithmetic is tested on its own.
 */
import type { Digest, WindowCounts } from '../src/transport/gossip-schema.js';
import { countOutcomes, type OutcomeWindow } from '../machines/outcome-window.js';

/** What the health machine's `peer.counts` event carries. */
export interface PeerCounts {
  requests: number;
  faults: number;
}

export const NO_PEER_COUNTS: PeerCounts = { requests: 0, faults: 0 };

/** What the peers together say about one deployment. */
export interface PeerDeployment {
  counts: PeerCounts;
  /** Σ weight and Σ weight × estimate over the peers that have a time-to-first-token estimate. */
  ttftWeight: number;
  ttftWeightedMs: number;
}

export interface PeerMerge {
  deployments: Map<string, PeerDeployment>;
  vendorRegions: Map<string, PeerCounts>;
}

/**
 * An estimate backed by n samples weighs n; a fault-only estimate (faults move the EWMA but add no
 * sample) still weighs 1, so a peer that has only seen this deployment fail is heard.
 */
export function ttftWeight(ttftMs: number | undefined, samples: number): number {
  return ttftMs === undefined ? 0 : Math.max(1, samples);
}

export function mergePeerDigests(digests: readonly Digest[]): PeerMerge {
  const deployments = new Map<string, PeerDeployment>();
  const vendorRegions = new Map<string, PeerCounts>();
  for (const digest of digests) {
    vendorRegions.set(digest.vendorRegion, addCounts(vendorRegions.get(digest.vendorRegion) ?? NO_PEER_COUNTS, digest.window));
    for (const d of digest.deployments) {
      const current = deployments.get(d.id) ?? { counts: NO_PEER_COUNTS, ttftWeight: 0, ttftWeightedMs: 0 };
      const weight = ttftWeight(d.ttftMs, d.ttftSamples);
      deployments.set(d.id, {
        counts: addCounts(current.counts, d.window),
        ttftWeight: current.ttftWeight + weight,
        ttftWeightedMs: current.ttftWeightedMs + weight * (d.ttftMs ?? 0),
      });
    }
  }
  return { deployments, vendorRegions };
}

function addCounts(sum: PeerCounts, window: WindowCounts): PeerCounts {
  return { requests: sum.requests + window.requests, faults: sum.faults + window.faults };
}

/** The sample-weighted average of our estimate and the peers'; undefined when nobody has one. */
export function mergedTtft(local: number | undefined, localSamples: number, peer: PeerDeployment | undefined): number | undefined {
  const weight = ttftWeight(local, localSamples);
  const total = weight + (peer?.ttftWeight ?? 0);
  if (total === 0) return undefined;
  return (weight * (local ?? 0) + (peer?.ttftWeightedMs ?? 0)) / total;
}

/** Our own outcomes inside the window, as a digest reports them. */
export function windowCounts(outcomes: OutcomeWindow, throttles: readonly number[], now: number, windowMs: number): WindowCounts {
  const since = now - windowMs;
  return { ...countOutcomes(outcomes, now, windowMs), throttles: throttles.filter((at) => at > since).length };
}

export function samePeerCounts(a: PeerCounts, b: PeerCounts): boolean {
  return a.requests === b.requests && a.faults === b.faults;
}
