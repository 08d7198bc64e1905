/**
 * Capacity at run time (docs/design.md §5): the pools' rules, tenants and priorities, the
 * admission rule, the limits learned from the vendors, and each node's ledger of reservations.
 * Pure and clock-free (time is handed in). May import src/domain, src/config and src/routing;
 * imported by actors/ (which wire it to requests and gossip) and src/redundancy (which reports
 * by the same rules). Only what those need is exported; the rest is the ledger's own.
 */
export { estimatedTokens } from './estimate.js';
export {
  CapacityLedger,
  SHARED_POOL,
  type AdmissionRequest,
  type AdmitResult,
  type CapacityOptions,
  type DeploymentCapacityStatus,
  type Reservation,
} from './ledger.js';
export type { PeerCapacity, PeerReport } from './peers.js';
export { poolFor, poolRules } from './pools.js';
export { effectivePriority, tenantFor, type TenantLimits } from './tenants.js';
