/**
 * Guaranteed capacity of a route for one use case: the share of each deployment's quota that the
 * use case's pool reserves, by the same rules admission enforces (src/capacity/pools.ts). Borrowing
 * is not counted: borrowed capacity is there only while the lender is idle, and this report is
 * about the bad day. A use case in no pool is guaranteed only what no pool has reserved.
 */
import type { Config, Deployment, Pool } from '../config/index.js';
import { poolRules } from '../capacity/index.js';

export { poolFor } from '../capacity/index.js';

export interface Capacity {
  rpm: number;
  tpm: number;
}

function guaranteedFraction(config: Config, pool: Pool | undefined, deployment: Deployment): number {
  const rules = poolRules(config, deployment.id);
  if (pool) return rules.find((r) => r.name === pool.name)?.reserve ?? 0;
  return Math.max(0, 1 - rules.reduce((sum, r) => sum + r.reserve, 0));
}

export function guaranteedCapacity(config: Config, pool: Pool | undefined, deployments: readonly Deployment[]): Capacity {
  return deployments.reduce(
    (total, d) => {
      const share = guaranteedFraction(config, pool, d);
      return { rpm: total.rpm + d.quota.rpm * share, tpm: total.tpm + d.quota.tpm * share };
    },
    { rpm: 0, tpm: 0 },
  );
}
