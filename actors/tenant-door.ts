/**
 * Tenants refused for their share, turned away at the door for a moment: while a tenant floods,
 * its requests are refused before a request actor is made for them, since each would cost the
 * node as much bookkeeping as a served one, paid in the other tenants' latency. The door opens
 * again when one of the tenant's own reservations is released here (its part has room) or after
 * SHUT_MS (a peer's report may have moved its part).
 */
import type { Failure } from '../src/domain/index.js';

/** Well under a gossip interval and a typical answer, so a tenant loses little it could have had. */
const SHUT_MS = 250;

export class TenantDoor {
  /** Per tenant, per pool. */
  private readonly shut = new Map<string, Map<string, { until: number; failure: Failure }>>();

  constructor(private readonly now: () => number) {}

  /** The tenant was refused for its share in this pool, with this failure. */
  close(pool: string, tenant: string, failure: Failure): void {
    let pools = this.shut.get(tenant);
    if (!pools) this.shut.set(tenant, (pools = new Map<string, { until: number; failure: Failure }>()));
    pools.set(pool, { until: this.now() + SHUT_MS, failure });
  }

  /** The failure to answer at once, while the door is shut for the tenant in this pool. */
  refusal(pool: string, tenant: string): Failure | undefined {
    const entry = this.shut.get(tenant)?.get(pool);
    if (!entry) return undefined;
    if (this.now() < entry.until) return entry.failure;
    this.shut.get(tenant)?.delete(pool);
    if (this.shut.get(tenant)?.size === 0) this.shut.delete(tenant);
    return undefined;
  }

  /** One of the tenant's reservations was released here. */
  open(tenant: string): void {
    this.shut.delete(tenant);
  }
}
