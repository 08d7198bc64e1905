/**
 * Turns a checked config into the resolved form the rest of Switchyard reads: routes keyed by
 * logical model name, every environment as use case → route, vendor-regions split into vendor and
 * region with their default endpoints, deployments with their ids, pool defaults filled in.
 */
import {
  OTHERWISE,
  deploymentId,
  parseVendorRegionId,
  type DeploymentId,
  type Vendor,
} from '../domain/index.js';
import { modelForRouteKey } from './model-keys.js';
import { isRouteNode, type RouteNode } from './route-schema.js';
import type { ParsedConfigInput } from './schema.js';
import { normalizeTrustedKeys, type TrustedKeys } from './routers.js';

type VendorRegionInput = ParsedConfigInput['vendorRegions'][string];
type DeploymentInput = VendorRegionInput['deployments'][string];
type PoolInput = ParsedConfigInput['pools'][string];

export interface Deployment extends DeploymentInput {
  id: DeploymentId;
  model: string;
  vendorRegion: string;
}

export interface VendorRegion extends Omit<VendorRegionInput, 'deployments' | 'baseUrl'> {
  id: string;
  vendor: Vendor;
  /** The vendor is the wire protocol: docs/design.md §1 defines a vendor as an API family. */
  protocol: Vendor;
  region: string;
  baseUrl: string;
  deployments: Record<string, Deployment>;
}

export interface Pool extends Omit<PoolInput, 'mayBorrow'> {
  name: string;
  mayBorrow: boolean;
}

/** Routes by logical model name → environment → use case (`otherwise` when one route serves all). */
export type RouteTable = Record<string, Record<string, Record<string, RouteNode>>>;

export interface ResolvedConfig extends Omit<ParsedConfigInput, '$schema' | 'vendorRegions' | 'routes' | 'pools' | 'routers'> {
  vendorRegions: Record<string, VendorRegion>;
  routes: RouteTable;
  pools: Record<string, Pool>;
  routers: Omit<ParsedConfigInput['routers'], 'trustedKeys'> & { trustedKeys: TrustedKeys };
}

/** Where each vendor is reached when the config does not say; Azure has no default (its URL names the resource). */
export function defaultBaseUrl(vendor: Vendor, region: string): string | undefined {
  switch (vendor) {
    case 'anthropic':
      return 'https://api.anthropic.com';
    case 'openai':
      return 'https://api.openai.com/v1';
    case 'bedrock':
      return `https://bedrock-runtime.${region}.amazonaws.com`;
    case 'vertex':
      return region === 'global' ? 'https://aiplatform.googleapis.com' : `https://${region}-aiplatform.googleapis.com`;
    case 'azure':
      return undefined;
  }
}

export function resolveConfig(input: ParsedConfigInput): ResolvedConfig {
  const models = Object.keys(input.models);
  return {
    vendorRegions: Object.fromEntries(Object.entries(input.vendorRegions).map(([id, vr]) => [id, resolveVendorRegion(id, vr)])),
    models: input.models,
    routes: Object.fromEntries(
      Object.entries(input.routes).map(([key, environments]) => [
        modelForRouteKey(models, key) ?? key,
        Object.fromEntries(
          Object.entries(environments).map(([environment, r]) => [environment, isRouteNode(r) ? { [OTHERWISE]: r } : r]),
        ),
      ]),
    ),
    pools: Object.fromEntries(
      Object.entries(input.pools).map(([name, pool]) => [name, { ...pool, name, mayBorrow: pool.mayBorrow ?? pool.priority === 'critical' }]),
    ),
    tenants: input.tenants,
    capacity: input.capacity,
    hedge: input.hedge,
    crawlGuard: input.crawlGuard,
    peakLoad: input.peakLoad,
    bufferFactor: input.bufferFactor,
    redundancy: input.redundancy,
    routers: { ...input.routers, trustedKeys: normalizeTrustedKeys(input.routers.trustedKeys) },
    gateway: input.gateway,
  };
}

function resolveVendorRegion(id: string, input: VendorRegionInput): VendorRegion {
  // References were checked before resolution, so the id parses.
  const { vendor, region } = parseVendorRegionId(id) ?? { vendor: 'anthropic' as const, region: 'global' };
  return {
    ...input,
    id,
    vendor,
    protocol: vendor,
    region,
    baseUrl: input.baseUrl ?? defaultBaseUrl(vendor, region) ?? '',
    deployments: Object.fromEntries(
      Object.entries(input.deployments).map(([model, d]) => [model, { ...d, id: deploymentId(model, id), model, vendorRegion: id }]),
    ),
  };
}
