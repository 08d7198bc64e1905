/**
 * What a signed digest or heartbeat may claim. A signature proves who sent a message, not that it
 * is true or current: a replayed old digest, or a broken or compromised peer, could still claim
 * absurd numbers. Anything a real node could not have seen is dropped whole, so a lie costs at
 * most a plausible share of the fleet's view, never a deployment's state.
 */
import type { Digest, Heartbeat } from './gossip-schema.js';

export interface PlausibilityLimits {
  /** How far a message's send time may be from ours, either way; older is a replay. */
  maxSkewMs: number;
  /** Requests one node can finish per second on one deployment, at most. */
  maxRequestsPerSecond: number;
  /** Requests one node can hold at once, at most. */
  maxInFlight: number;
  /** Time to first token beyond this is no estimate but a broken clock (a node's own fault score stops at ten minutes). */
  maxLatencyMs: number;
  maxTokensPerSecond: number;
  /** How far ahead a vendor's retry-after may reach. */
  maxRetryAfterMs: number;
  /** The samples an estimate rests on: a node keeps this many. */
  maxSamples: number;
}

export const DEFAULT_PLAUSIBILITY: PlausibilityLimits = {
  maxSkewMs: 30_000,
  maxRequestsPerSecond: 5_000,
  maxInFlight: 10_000,
  maxLatencyMs: 3_600_000,
  maxTokensPerSecond: 100_000,
  maxRetryAfterMs: 3_600_000,
  maxSamples: 64,
};

function stale(at: number, now: number, limits: PlausibilityLimits): string | undefined {
  if (at < now - limits.maxSkewMs) return `sent ${Math.round(now - at)} ms ago, more than ${limits.maxSkewMs} ms`;
  if (at > now + limits.maxSkewMs) return `sent ${Math.round(at - now)} ms in the future`;
  return undefined;
}

/** Why a digest cannot be believed, or undefined. `windowMs` is the health window counts cover. */
export function implausibleDigest(digest: Digest, now: number, windowMs: number, limits: PlausibilityLimits = DEFAULT_PLAUSIBILITY): string | undefined {
  const old = stale(digest.at, now, limits);
  if (old) return old;
  const maxRequests = Math.ceil((limits.maxRequestsPerSecond * windowMs) / 1000);
  if (digest.window.requests > maxRequests) return `${digest.window.requests} requests in the window; a node serves at most ${maxRequests}`;
  for (const d of digest.deployments) {
    if (d.window.requests > maxRequests) return `${d.id}: ${d.window.requests} requests in the window; a node serves at most ${maxRequests}`;
    if (d.window.throttles > d.window.requests) return `${d.id}: more throttles than requests`;
    if (d.inFlight > limits.maxInFlight) return `${d.id}: ${d.inFlight} in flight; a node holds at most ${limits.maxInFlight}`;
    if (d.ttftSamples > limits.maxSamples) return `${d.id}: ${d.ttftSamples} samples; a node keeps ${limits.maxSamples}`;
    for (const [name, value] of [['ttftMs', d.ttftMs], ['ttftP95Ms', d.ttftP95Ms]] as const) {
      if (value !== undefined && value > limits.maxLatencyMs) return `${d.id}: ${name} of ${value} ms`;
    }
    if (d.tokensPerSecond !== undefined && d.tokensPerSecond > limits.maxTokensPerSecond) return `${d.id}: ${d.tokensPerSecond} tokens per second`;
    if (d.quota.throttledUntil !== undefined && d.quota.throttledUntil > digest.at + limits.maxRetryAfterMs) return `${d.id}: throttled until ${d.quota.throttledUntil}`;
    const capacity = d.capacity && implausibleCapacity(d.id, d.inFlight, d.capacity, limits);
    if (capacity) return capacity;
  }
  return undefined;
}

/** The vendors' rate window, which a capacity report's request counts cover. */
const CAPACITY_WINDOW_MS = 60_000;

function implausibleCapacity(id: string, inFlight: number, capacity: NonNullable<Digest['deployments'][number]['capacity']>, limits: PlausibilityLimits): string | undefined {
  if (capacity.demand > limits.maxRequestsPerSecond) return `${id}: demand of ${capacity.demand} requests per second`;
  const maxRequests = Math.ceil((limits.maxRequestsPerSecond * CAPACITY_WINDOW_MS) / 1000);
  let pooled = 0;
  for (const p of capacity.pools) {
    pooled += p.inFlight;
    if (p.requests > maxRequests) return `${id}: pool ${p.pool} has ${p.requests} requests in the minute; a node serves at most ${maxRequests}`;
    const tenants = (p.tenants ?? []).reduce((sum, t) => sum + t.inFlight, 0);
    if (tenants > p.inFlight) return `${id}: pool ${p.pool}'s tenants hold more than the pool`;
  }
  // The pools split what the node holds there; a report that disagrees with itself is not believed.
  if (pooled !== inFlight) return `${id}: the pools hold ${pooled} in flight, the deployment ${inFlight}`;
  return undefined;
}

export function implausibleHeartbeat(heartbeat: Heartbeat, now: number, limits: PlausibilityLimits = DEFAULT_PLAUSIBILITY): string | undefined {
  const old = stale(heartbeat.at, now, limits);
  if (old) return old;
  if (heartbeat.load.inFlight > limits.maxInFlight) return `${heartbeat.load.inFlight} in flight; a node holds at most ${limits.maxInFlight}`;
  if (heartbeat.startedAt > heartbeat.at) return 'started after it was sent';
  return undefined;
}
