/** The floors one report row is held to: the config's defaults, the critical rules, then matching overrides. */
import type { Config } from '../config/index.js';

export interface Floors {
  minVendors: number;
  minRegions: number;
  requireFallback: boolean;
  requireIsolatedCapacity: boolean;
}

export function floorsFor(config: Config, row: { model: string; environment: string; useCase: string; critical: boolean }): Floors {
  const { minVendors, minRegions, critical, overrides } = config.redundancy;
  const floors: Floors = {
    minVendors,
    minRegions,
    requireFallback: row.critical && critical.requireFallback,
    requireIsolatedCapacity: row.critical && critical.requireIsolatedCapacity,
  };
  for (const { model, environment, useCase, ...values } of overrides) {
    if ((model ?? row.model) !== row.model || (environment ?? row.environment) !== row.environment || (useCase ?? row.useCase) !== row.useCase) continue;
    for (const [key, value] of Object.entries(values) as [keyof Floors, number | boolean | undefined][]) {
      if (value !== undefined) (floors as unknown as Record<string, number | boolean>)[key] = value;
    }
  }
  return floors;
}
