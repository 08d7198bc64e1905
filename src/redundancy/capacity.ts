/**
 * Guaranteed capacity of a route for one use case: the share of each deployment's quota that the
 * use case's pool reserves. Borrowing is not counted: borrowed capacity is there only while the
 * lender is idle, and this report is about the bad day.
 */
import { OTHERWISE } from '../domain/index.js';
import type { Config, Deployment, Pool } from '../config/index.js';

export interface Capacity {
  rpm: number;
  tpm: number;
}

/** The pool a use case draws from: the one naming it, else the one naming `otherwise`. */
export function poolFor(config: Config, useCase: string): Pool | undefined {
  const pools = Object.values(config.pools);
  return pools.find((p) => p.useCases.includes(useCase)) ?? pools.find((p) => p.useCases.includes(OTHERWISE));
}

/** Percent of a deployment's quota a pool reserves; with no pool, what no pool has reserved. */
export function reservedShare(config: Config, pool: Pool | undefined, deployment: Deployment): number {
  const shareOf = (p: Pool): number => p.shares[deployment.id] ?? p.shares['*'] ?? 0;
  if (pool) return shareOf(pool);
  const reserved = Object.values(config.pools).reduce((sum, p) => sum + shareOf(p), 0);
  return Math.max(0, 100 - reserved);
}

export function guaranteedCapacity(config: Config, pool: Pool | undefined, deployments: readonly Deployment[]): Capacity {
  return deployments.reduce(
    (total, d) => {
      const share = reservedShare(config, pool, d) / 100;
      return { rpm: total.rpm + d.quota.rpm * share, tpm: total.tpm + d.quota.tpm * share };
    },
    { rpm: 0, tpm: 0 },
  );
}
