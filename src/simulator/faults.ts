/**
 * Faults on command, per vendor-region or per deployment, for a duration. The same schema serves
 * the admin HTTP API, `sy.chaos.<vendor>.<region>` over NATS and `switchyard chaos`.
 */
import { z } from 'zod';

export const FAULT_KINDS = ['outage', 'brownout', 'throttle', 'overload', 'stream_error', 'cut', 'malformed', 'hang', 'drip'] as const;

export const FaultSpecSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('outage'),
    /** `refuse` closes the listening socket (connection refused); the others answer with that status. */
    mode: z.enum(['refuse', '500', '503']).default('503'),
  }),
  z.strictObject({ kind: z.literal('brownout'), factor: z.number().min(1).default(5) }),
  z.strictObject({ kind: z.literal('throttle'), retryAfterS: z.number().int().positive().default(2) }),
  z.strictObject({ kind: z.literal('overload') }),
  /** The stream starts with 200, then the vendor's own in-stream error event arrives. */
  z.strictObject({
    kind: z.literal('stream_error'),
    afterEvents: z.number().int().nonnegative().default(3),
    error: z.enum(['overloaded', 'server_error', 'rate_limited']).default('overloaded'),
  }),
  z.strictObject({ kind: z.literal('cut'), afterEvents: z.number().int().nonnegative().default(3) }),
  z.strictObject({ kind: z.literal('malformed'), afterEvents: z.number().int().nonnegative().default(3) }),
  z.strictObject({ kind: z.literal('hang') }),
  z.strictObject({ kind: z.literal('drip'), intervalMs: z.number().positive().default(1000) }),
]);

const FaultScopeSchema = z.strictObject({
  /** The vendor-region, e.g. bedrock/us-east-1. */
  vendorRegion: z.string().min(1),
  /** A logical model served there; the whole vendor-region when absent. */
  model: z.string().min(1).optional(),
  durationMs: z.number().positive().default(60_000),
  /** Share of matching requests affected, drawn from the simulator's seeded randomness. */
  probability: z.number().min(0).max(1).default(1),
});

export const FaultSchema = z.intersection(FaultSpecSchema, FaultScopeSchema);
export type FaultInput = z.input<typeof FaultSchema>;
/** The kind-specific part of a fault, as written without its scope. */
export type FaultSpecInput = z.input<typeof FaultSpecSchema>;
export type Fault = z.output<typeof FaultSchema>;

export interface ActiveFault {
  id: string;
  fault: Fault;
  expiresAt: number;
}

type FaultChange = { added?: ActiveFault; removed?: ActiveFault };

export class FaultBoard {
  private readonly faults = new Map<string, ActiveFault>();
  private readonly listeners = new Set<(change: FaultChange) => void>();
  private next = 1;

  constructor(private readonly now: () => number) {}

  /** Told of every fault added or removed (expired ones when next listed). */
  subscribe(listener: (change: FaultChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private onChange(change: FaultChange): void {
    for (const listener of this.listeners) listener(change);
  }

  add(fault: Fault): ActiveFault {
    const active = { id: `fault-${this.next++}`, fault, expiresAt: this.now() + fault.durationMs };
    this.faults.set(active.id, active);
    this.onChange({ added: active });
    return active;
  }

  remove(id: string): boolean {
    const active = this.faults.get(id);
    if (!active) return false;
    this.faults.delete(id);
    this.onChange({ removed: active });
    return true;
  }

  clear(): void {
    for (const id of [...this.faults.keys()]) this.remove(id);
  }

  /** Active faults, expired ones dropped. */
  list(): ActiveFault[] {
    const now = this.now();
    for (const active of [...this.faults.values()]) if (active.expiresAt <= now) this.remove(active.id);
    return [...this.faults.values()];
  }

  /** The faults that apply to a request to this vendor-region (and model, when known). */
  matching(vendorRegion: string, model?: string): ActiveFault[] {
    return this.list().filter((a) => a.fault.vendorRegion === vendorRegion && (a.fault.model === undefined || a.fault.model === model));
  }
}
