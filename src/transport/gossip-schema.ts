/**
 * The gossip wire format (docs/design.md §3-4): the digest each node publishes per vendor-region
 * on `sy.state.<vendor>.<region>`, and the heartbeat on `sy.node.<id>`. Every message is checked
 * here on receipt, because a peer on another version, or anything else allowed to publish on
 * those subjects, must never be able to crash a node or poison its breakers. The messages carry
 * health numbers only: never credentials, prompts, answers or error messages.
 */
import { z } from 'zod';
import { HEALTH_STATES, parseDeploymentId, parseVendorRegionId } from '../domain/index.js';

/** Bumped only on an incompatible change; added fields stay version 1 (older nodes strip them). */
export const GOSSIP_VERSION = 1;

/** A peer that sends more than this is broken or hostile; nothing legitimate comes close. */
export const MAX_GOSSIP_BYTES = 256 * 1024;

/** The domain's states but `unusable`, which is about the node and never gossiped. */
export const GOSSIP_HEALTH_STATES = HEALTH_STATES.filter((s): s is Exclude<(typeof HEALTH_STATES)[number], 'unusable'> => s !== 'unusable') as [
  'healthy',
  'degraded',
  'open',
  'halfOpen',
  'drained',
];

const Count = z.number().int().nonnegative().max(1_000_000_000);
const Millis = z.number().finite().nonnegative();
const EpochMs = z.number().int().nonnegative();
/** The same shape a subject token allows, so a node id read here can always name `sy.node.<id>`. */
export const NodeIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'expected 1-64 letters, digits, _ or -' });
const HealthStateSchema = z.enum(GOSSIP_HEALTH_STATES);

/**
 * Outcomes inside the sender's health window. Only the sender's own: every node sums its peers'
 * counts, so a count that already included peers would be counted twice.
 */
export const WindowCountsSchema = z
  .object({ requests: Count, faults: Count, throttles: Count })
  // Faults are a kind of request; more faults than requests would give a fault rate above 1.
  .refine((w) => w.faults <= w.requests, { error: 'faults exceed requests' });
export type WindowCounts = z.infer<typeof WindowCountsSchema>;

/** What the vendor told the sender about its quota: hints for the capacity loop, not facts. */
export const QuotaHintsSchema = z.object({
  /** The vendor asked for no traffic before this time (retry-after), epoch ms. */
  throttledUntil: EpochMs.optional(),
  requestsRemaining: Count.optional(),
  tokensRemaining: Count.optional(),
});
export type QuotaHints = z.infer<typeof QuotaHintsSchema>;

/**
 * What the sender uses of a deployment's quota, per pool, and the limits it admits by: every node
 * sums these to count usage across the fleet (src/capacity). Pool names as the config spells them,
 * or `(shared)` for use cases in no pool.
 */
export const CapacityReportSchema = z.object({
  /** Requests per second that wanted the deployment on the sender (a decayed rate). */
  demand: z.number().finite().nonnegative().max(1_000_000),
  limits: z.object({ concurrency: Count.optional(), rpm: Count.optional(), tpm: Count.optional() }).optional(),
  pools: z
    .array(
      z.object({
        pool: z.string().regex(/^(\(shared\)|[a-z0-9][a-z0-9_-]{0,63})$/),
        inFlight: Count,
        requests: Count,
        tokens: Count,
        /** The tenants using the pool there (names as the config spells them), so shares hold fleet-wide. */
        tenants: z
          .array(
            z.object({
              tenant: z.string().min(1).max(128),
              inFlight: Count,
              requests: Count,
              tokens: Count,
              /** Requests per second of the tenant that arrived there, refused ones included: nodes split a tenant's share by it. */
              demand: z.number().finite().nonnegative().max(1_000_000).optional(),
            }),
          )
          .max(64)
          .optional(),
      }),
    )
    .max(64),
});
export type CapacityReport = z.infer<typeof CapacityReportSchema>;

/** A breaker's own verdict, for a deployment or a whole vendor-region: peers act on it once each. */
const VerdictsShape = {
  /** The sender opened it itself on strong evidence, at this time (its clock; an identity, not a fact to compare). */
  opened: z.object({ at: EpochMs, reason: z.enum(['consecutive', 'persistent']) }).optional(),
  /** The sender's probes found it well at this time, and it is ramping back up. */
  recovered: z.object({ at: EpochMs }).optional(),
};

export const DeploymentDigestSchema = z.object({
  id: z.string().min(1).max(256),
  /** The deployment's own breaker state on the sender (not combined with its vendor-region's). */
  state: HealthStateSchema,
  /** Time-to-first-token estimate (peak EWMA decayed to the send time); absent before any sample. */
  ttftMs: Millis.optional(),
  /** How many recent samples back that estimate; receivers weight estimates by it. */
  ttftSamples: Count,
  /** Recent p95 of time to first token. */
  ttftP95Ms: Millis.optional(),
  tokensPerSecond: Millis.optional(),
  /** Requests the sender has in flight there now. */
  inFlight: Count,
  window: WindowCountsSchema,
  quota: QuotaHintsSchema,
  /** Absent from nodes that predate capacity reports; such a peer's usage is not counted. */
  capacity: CapacityReportSchema.optional(),
  ...VerdictsShape,
});
export type DeploymentDigest = z.infer<typeof DeploymentDigestSchema>;

export const DigestSchema = z
  .object({
    v: z.literal(GOSSIP_VERSION),
    node: NodeIdSchema,
    /** Per sender, increasing across all its messages: receivers drop anything older than what they hold. */
    seq: Count,
    /** Send time on the sender's clock, epoch ms; informative only, since clocks differ between nodes. */
    at: EpochMs,
    vendorRegion: z.string().refine((id) => parseVendorRegionId(id) !== undefined, { error: 'not a vendor-region id' }),
    /** The vendor-region actor's state and its own window (connection-level faults). */
    state: HealthStateSchema,
    window: WindowCountsSchema,
    ...VerdictsShape,
    deployments: z.array(DeploymentDigestSchema).max(1_000),
  })
  .superRefine((digest, ctx) => {
    const seen = new Set<string>();
    for (const [index, d] of digest.deployments.entries()) {
      // A digest speaks for one vendor-region only; anything else would let it move another region's counts.
      if (parseDeploymentId(d.id)?.vendorRegion !== digest.vendorRegion) {
        ctx.addIssue({ code: 'custom', message: `deployment ${d.id} is not in ${digest.vendorRegion}`, path: ['deployments', index, 'id'] });
      }
      if (seen.has(d.id)) ctx.addIssue({ code: 'custom', message: `deployment ${d.id} appears twice`, path: ['deployments', index, 'id'] });
      seen.add(d.id);
    }
  });
export type Digest = z.infer<typeof DigestSchema>;

export const HeartbeatSchema = z.object({
  v: z.literal(GOSSIP_VERSION),
  node: NodeIdSchema,
  seq: Count,
  at: EpochMs,
  /** When the sender's gossip started, epoch ms: a new value means the node restarted under the same id. */
  startedAt: EpochMs,
  environment: z.string().min(1).max(64),
  version: z.string().min(1).max(64),
  configRevision: Count,
  load: z.object({ inFlight: Count }),
});
export type Heartbeat = z.infer<typeof HeartbeatSchema>;

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Parses and checks one gossip message; never throws, whatever the bytes. */
export function decodeGossip<T>(schema: z.ZodType<T>, data: Uint8Array): Decoded<T> {
  if (data.byteLength > MAX_GOSSIP_BYTES) return { ok: false, reason: `message of ${data.byteLength} bytes is over ${MAX_GOSSIP_BYTES}` };
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
  } catch {
    return { ok: false, reason: 'not UTF-8 JSON' };
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, reason: z.prettifyError(parsed.error) };
}
