/**
 * The single-point-of-failure report (docs/design.md §9): one row per model × environment × use
 * case, each criterion a boolean with a one-line reason that says what to do when it fails.
 */
import { GLOBAL_REGION } from '../domain/index.js';
import { routeVendorRegions, type Config, type Deployment } from '../config/index.js';
import { crossModelFallbacks, environmentsOf, resolveRoute, writtenUseCases } from '../routing/index.js';
import { guaranteedCapacity, poolFor, type Capacity } from './capacity.js';
import { floorsFor, type Floors } from './floors.js';

export const CRITERIA = ['vendors', 'regions', 'fallback', 'isolatedCapacity', 'quota'] as const;
export type Criterion = (typeof CRITERIA)[number];

export interface RedundancyRow {
  model: string;
  environment: string;
  useCase: string;
  pool: string | null;
  critical: boolean;
  deployments: string[];
  vendors: string[];
  regions: string[];
  fallbacks: string[];
  /** Quota the use case's pool is guaranteed on this route. */
  capacity: Capacity;
  peak: { rpm?: number | undefined; tpm?: number | undefined } | null;
  floors: Floors;
  /** Whether each criterion passes; one not required passes. */
  checks: Record<Criterion, boolean>;
  /** One line per criterion: what was found, and for a failure what to do. */
  reasons: Record<Criterion, string>;
  pass: boolean;
}

export function redundancyReport(config: Config, options: { environment?: string } = {}): RedundancyRow[] {
  const rows: RedundancyRow[] = [];
  for (const model of Object.keys(config.routes)) {
    for (const environment of environmentsOf(config)) {
      if (options.environment !== undefined && environment !== options.environment) continue;
      for (const useCase of rowUseCases(config, model, environment)) {
        const row = buildRow(config, model, environment, useCase);
        if (row) rows.push(row);
      }
    }
  }
  return rows;
}

/** Use cases written in the table, plus those with a declared peak for this model that ride on `otherwise`. */
function rowUseCases(config: Config, model: string, environment: string): string[] {
  const written = writtenUseCases(config, model, environment);
  const declared = config.peakLoad
    .filter((p) => p.model === model && (p.environment ?? environment) === environment)
    .map((p) => p.useCase);
  return [...new Set([...written, ...declared])];
}

function regionLabel(deployment: Deployment, config: Config): string {
  const vendorRegion = config.vendorRegions[deployment.vendorRegion];
  if (!vendorRegion) return deployment.vendorRegion;
  // A global endpoint is its vendor's own failure domain, not one shared with other vendors' global endpoints.
  return vendorRegion.region === GLOBAL_REGION ? `${vendorRegion.vendor} (global)` : vendorRegion.region;
}

function peakFor(config: Config, model: string, environment: string, useCase: string): RedundancyRow['peak'] {
  const matching = config.peakLoad.filter((p) => p.model === model && p.useCase === useCase);
  const peak = matching.find((p) => p.environment === environment) ?? matching.find((p) => p.environment === undefined);
  return peak ? { rpm: peak.rpm, tpm: peak.tpm } : null;
}

function buildRow(config: Config, model: string, environment: string, useCase: string): RedundancyRow | undefined {
  const route = resolveRoute(config, model, environment, useCase);
  if (!route) return undefined;
  const deployments = routeVendorRegions(route)
    .map((id) => config.vendorRegions[id]?.deployments[model])
    .filter((d): d is Deployment => d !== undefined);
  const pool = poolFor(config, useCase);
  const critical = pool?.priority === 'critical';
  const floors = floorsFor(config, { model, environment, useCase, critical });
  const vendors = [...new Set(deployments.map((d) => config.vendorRegions[d.vendorRegion]?.vendor ?? d.vendorRegion))];
  const regions = [...new Set(deployments.map((d) => regionLabel(d, config)))];
  const fallbacks = crossModelFallbacks(config, model, route);
  const capacity = guaranteedCapacity(config, pool, deployments);
  const peak = peakFor(config, model, environment, useCase);

  const results: Record<Criterion, [boolean, string]> = {
    vendors: countCheck(vendors, floors.minVendors, 'vendor', 'add a deployment of this model at another vendor to the route'),
    regions: countCheck(regions, floors.minRegions, 'region', 'add a deployment in another region to the route'),
    fallback: fallbackCheck(fallbacks, floors.requireFallback, model),
    isolatedCapacity: isolationCheck(config, pool?.name, capacity, floors.requireIsolatedCapacity, deployments),
    quota: quotaCheck(capacity, peak, config.bufferFactor, pool?.name),
  };
  const checks = Object.fromEntries(CRITERIA.map((c) => [c, results[c][0]])) as Record<Criterion, boolean>;
  const reasons = Object.fromEntries(CRITERIA.map((c) => [c, results[c][1]])) as Record<Criterion, string>;
  return {
    model,
    environment,
    useCase,
    pool: pool?.name ?? null,
    critical,
    deployments: deployments.map((d) => d.id),
    vendors,
    regions,
    fallbacks,
    capacity,
    peak,
    floors,
    checks,
    reasons,
    pass: CRITERIA.every((c) => checks[c]),
  };
}

function countCheck(found: string[], floor: number, noun: string, fix: string): [boolean, string] {
  const plural = (n: number) => `${n} ${noun}${n === 1 ? '' : 's'}`;
  if (found.length >= floor) return [true, `${plural(found.length)}: ${found.join(', ')}`];
  const what = found.length === 0 ? `no ${noun}s` : `only ${found.join(', ')}`;
  return [false, `${what}; ${fix} (floor: ${plural(floor)})`];
}

function fallbackCheck(fallbacks: string[], required: boolean, model: string): [boolean, string] {
  if (fallbacks.length > 0) return [true, `falls back to ${fallbacks.join(', ')}`];
  if (!required) return [true, 'none (not required here)'];
  return [false, `no cross-model fallback for a critical use case; add Fallback('<model>') to the route or set models.${model}.fallback`];
}

function isolationCheck(
  config: Config,
  pool: string | undefined,
  capacity: Capacity,
  required: boolean,
  deployments: readonly Deployment[],
): [boolean, string] {
  const isCritical = pool !== undefined && config.pools[pool]?.priority === 'critical';
  if (isCritical && capacity.rpm > 0) return [true, `pool ${pool} reserves ${round(capacity.rpm)} rpm that no lower pool can spend`];
  if (!required) return [true, pool ? `not required (pool ${pool} is ${config.pools[pool]?.priority})` : 'not required (no pool)'];
  if (!pool) return [false, 'no pool serves this use case; declare a critical pool naming it'];
  return [false, `pool ${pool} reserves nothing on this route; add shares for ${deployments.map((d) => d.id).join(', ')} to pools.${pool}.shares`];
}

function quotaCheck(capacity: Capacity, peak: RedundancyRow['peak'], buffer: number, pool: string | undefined): [boolean, string] {
  if (!peak) return [true, 'no declared peak load (declare one under peakLoad to check quota)'];
  const source = pool ? `pool ${pool}'s share` : 'unreserved quota';
  const shortfalls: string[] = [];
  const found: string[] = [];
  for (const unit of ['rpm', 'tpm'] as const) {
    const wanted = peak[unit];
    if (wanted === undefined) continue;
    const needed = wanted * buffer;
    found.push(`${(capacity[unit] / wanted).toFixed(1)}× peak ${unit}`);
    if (capacity[unit] < needed) {
      shortfalls.push(`${round(capacity[unit])} ${unit} < peak ${round(wanted)} × buffer ${buffer} = ${round(needed)}`);
    }
  }
  if (shortfalls.length === 0) return [true, `${source} covers ${found.join(', ')} (buffer ${buffer}×)`];
  return [false, `${source} is short: ${shortfalls.join('; ')}; raise quotas or shares, or add deployments`];
}

const round = (n: number): string => String(Math.round(n));
