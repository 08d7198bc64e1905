/**
 * The words of docs/design.md §1 as types. Every other folder speaks in these.
 */

/** An API family with its own wire protocol. The vendor of a vendor-region is also its protocol. */
export const VENDORS = ['anthropic', 'openai', 'azure', 'bedrock', 'vertex'] as const;
export type Vendor = (typeof VENDORS)[number];

/** Vendors whose public API has one global endpoint rather than one per region. */
export const GLOBAL_VENDORS: readonly Vendor[] = ['anthropic', 'openai'];

/** How important one request is, most important first. */
export const PRIORITIES = ['critical', 'high', 'standard', 'batch'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** Higher rank = more important; lets callers compare priorities without knowing the list. */
export function priorityRank(priority: Priority): number {
  return PRIORITIES.length - PRIORITIES.indexOf(priority);
}

/**
 * The states of a deployment or vendor-region actor, as routing, gossip and status see them.
 * `unusable`: this node cannot call it at all (its credentials are missing here), a fact about the
 * node, not the vendor, so it is never gossiped.
 */
export const HEALTH_STATES = ['healthy', 'degraded', 'open', 'halfOpen', 'drained', 'unusable'] as const;
export type HealthState = (typeof HEALTH_STATES)[number];

/** From best to worst: a deployment is as bad as the worse of itself and its vendor-region, and status merges nodes the same way. */
export const HEALTH_SEVERITY: readonly HealthState[] = ['healthy', 'degraded', 'halfOpen', 'open', 'drained', 'unusable'];

/** The worse of two states. */
export function worseHealth(a: HealthState, b: HealthState): HealthState {
  return HEALTH_SEVERITY.indexOf(b) > HEALTH_SEVERITY.indexOf(a) ? b : a;
}

/** Strategies: how one request picks among deployments (docs/design.md §2). */
export const STRATEGIES = ['LatencyBased', 'LoadBalanced', 'Sequence'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** Elements that leave the current model: cross-model failover and spill. */
export const CROSS_MODEL_ELEMENTS = ['Fallback', 'Spill'] as const;
export type CrossModelElement = (typeof CROSS_MODEL_ELEMENTS)[number];

/** The catch-all use case, used when a request's use case has no route of its own. */
export const OTHERWISE = 'otherwise';

/** A logical model name callers ask for, e.g. `claude-sonnet-4`. */
export type ModelName = string;
/** Where a router node runs; picks a route table, e.g. `us_prod`. */
export type Environment = string;
/** Who is asking, e.g. `conversation_serving`. */
export type UseCase = string;
/** A pool name, e.g. `fin`. */
export type PoolName = string;
/** A tenant name, e.g. `acme-corp`. */
export type TenantName = string;

/** One vendor endpoint in one region: `bedrock/us-east-1`, or `anthropic` for a global vendor. */
export type VendorRegionId = string;

/** A model served by a vendor-region: `claude-sonnet-4@bedrock/us-east-1`. */
export type DeploymentId = `${ModelName}@${VendorRegionId}`;

/** The region label of a global endpoint. */
export const GLOBAL_REGION = 'global';

export interface VendorRegionParts {
  vendor: Vendor;
  /** Cloud region name, or `global` for a vendor's single global endpoint. */
  region: string;
}

const VENDOR_REGION_PATTERN = /^([a-z]+)(?:\/([a-z0-9-]+))?$/;

/** Splits `bedrock/us-east-1` into its vendor and region; undefined when it is not of that form. */
export function parseVendorRegionId(id: string): VendorRegionParts | undefined {
  const match = VENDOR_REGION_PATTERN.exec(id);
  if (!match) return undefined;
  const vendor = VENDORS.find((v) => v === match[1]);
  if (!vendor) return undefined;
  return { vendor, region: match[2] ?? GLOBAL_REGION };
}

export function deploymentId(model: ModelName, vendorRegion: VendorRegionId): DeploymentId {
  return `${model}@${vendorRegion}`;
}

/** Splits at the last `@`, since model names never contain one but could in theory contain anything else. */
export function parseDeploymentId(id: string): { model: ModelName; vendorRegion: VendorRegionId } | undefined {
  const at = id.lastIndexOf('@');
  if (at <= 0 || at === id.length - 1) return undefined;
  return { model: id.slice(0, at), vendorRegion: id.slice(at + 1) };
}

/**
 * Route tables name models the way operators write them on whiteboards (`CLAUDE_SONNET_4`),
 * callers use logical names (`claude-sonnet-4`, `gpt-4.1`); both meet at this key.
 */
export function modelRouteKey(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}
