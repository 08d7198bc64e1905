/**
 * Who a request runs for and how important it may be. A tenant the config does not name falls
 * into the default tenant (`capacity.defaultTenant`), so a caller cannot escape its limits by
 * inventing names, and the table of tenants stays as large as the config. A request's priority
 * is what it asks for, else its pool's, and never above what its tenant may claim.
 */
import { priorityRank, type Priority } from '../domain/index.js';
import type { Config, Pool } from '../config/index.js';

export interface TenantLimits {
  name: string;
  maxShare: number;
  maxPriority: Priority;
}

const UNCONFIGURED_DEFAULT: Omit<TenantLimits, 'name'> = { maxShare: 100, maxPriority: 'standard' };

export function tenantFor(config: Config, name: string | undefined): TenantLimits {
  const configured = name === undefined ? undefined : config.tenants[name];
  if (name !== undefined && configured) return { name, ...configured };
  const fallback = config.capacity.defaultTenant;
  return { name: fallback, ...(config.tenants[fallback] ?? UNCONFIGURED_DEFAULT) };
}

export function effectivePriority(requested: Priority | undefined, pool: Pool | undefined, tenant: TenantLimits): Priority {
  const wanted = requested ?? pool?.priority ?? 'standard';
  return priorityRank(wanted) > priorityRank(tenant.maxPriority) ? tenant.maxPriority : wanted;
}
