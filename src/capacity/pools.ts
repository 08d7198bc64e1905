/**
 * Which pool a request draws from, what each pool reserves of a deployment's quota, and who may
 * borrow from whom. Admission enforces these rules and the single-point-of-failure report reads
 * the same ones, so the report never calls capacity isolated that admission would give away.
 *
 * Borrowing is one way (docs/design.md, A4, APF with lendable 0 for the flagship): a
 * pool that may borrow spends the unused reserve of pools of strictly lower priority; nobody ever
 * spends the unused reserve of a pool at or above its own priority.
 */
import { OTHERWISE, priorityRank, type Priority } from '../domain/index.js';
import type { Config, Pool } from '../config/index.js';

/** Requests whose use case no pool names draw from this: it reserves nothing and borrows nothing. */
export const SHARED_POOL = '(shared)';

/** The pool a use case draws from: the one naming it, else the one naming `otherwise`. */
export function poolFor(config: Config, useCase: string): Pool | undefined {
  const pools = Object.values(config.pools);
  return pools.find((p) => p.useCases.includes(useCase)) ?? pools.find((p) => p.useCases.includes(OTHERWISE));
}

function shareOf(pool: Pool, deploymentId: string): number {
  return pool.shares[deploymentId] ?? pool.shares['*'] ?? 0;
}

/** One pool as admission sees it on one deployment. */
export interface PoolRule {
  name: string;
  priority: Priority;
  /** Fraction of the deployment's limit reserved for this pool, 0..1. */
  reserve: number;
  mayBorrow: boolean;
}

/**
 * The pools of one deployment, with the shared pool last. Reserves that add up to more than the
 * whole are scaled down together: the config promised more than the quota holds.
 */
export function poolRules(config: Config, deploymentId: string): PoolRule[] {
  const pools = Object.values(config.pools);
  const total = pools.reduce((sum, p) => sum + shareOf(p, deploymentId), 0);
  const scale = total > 100 ? 100 / total : 1;
  const rules = pools.map((p) => ({ name: p.name, priority: p.priority, reserve: (shareOf(p, deploymentId) * scale) / 100, mayBorrow: p.mayBorrow }));
  return [...rules, { name: SHARED_POOL, priority: 'standard', reserve: 0, mayBorrow: false }];
}

/** Whether a request of pool `borrower` may spend pool `lender`'s unused reserve. */
export function mayBorrowFrom(borrower: PoolRule, lender: PoolRule): boolean {
  return borrower.name === lender.name || (borrower.mayBorrow && priorityRank(lender.priority) < priorityRank(borrower.priority));
}
