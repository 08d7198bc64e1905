/**
 * The request protocol on the bus (DESIGN.md section 4). A request is a canonical request on
 * `sy.req.<usecase>` with headers for tenant, priority, deadline, request id and streaming; the
 * node that takes it replies to the request's inbox with numbered messages: `accepted` at once,
 * `keepalive` while waiting, then either stream `event`s ending in exactly one `end` or `error`
 * event, or, for a plain request, one `result`. Numbering lets the caller see loss and order.
 */
import { z } from 'zod';
import { CanonicalResponseSchema, FailureSchema, PRIORITIES, StreamEventSchema, type StreamEvent } from '../domain/index.js';

/** How often a node says "still working" while a vendor thinks, so callers can tell a dead node fast. */
export const KEEPALIVE_MS = 1_000;

export const ServedBySchema = z.strictObject({
  deployment: z.string(),
  model: z.string(),
  attempts: z.number().int().nonnegative(),
  resumed: z.number().int().nonnegative(),
});

/** The domain's one failure shape: every failure, plain or streamed, arrives as an `error` reply. */
export const ReplyErrorSchema = FailureSchema;
export type ReplyError = z.infer<typeof ReplyErrorSchema>;

/** What a stream carries before its end; a failure is an `error` reply, never an event. */
const ReplyEventSchema = StreamEventSchema.refine((event): event is ReplyEvent => event.type !== 'error', { error: 'failures come as an error reply, not an error event' });
export type ReplyEvent = Exclude<StreamEvent, { type: 'error' }>;

const Envelope = { seq: z.number().int().nonnegative(), node: z.string() };

export const ReplySchema = z.discriminatedUnion('kind', [
  z.strictObject({ ...Envelope, kind: z.literal('accepted'), requestId: z.string() }),
  z.strictObject({ ...Envelope, kind: z.literal('keepalive') }),
  z.strictObject({ ...Envelope, kind: z.literal('event'), event: ReplyEventSchema, servedBy: ServedBySchema.optional() }),
  z.strictObject({ ...Envelope, kind: z.literal('result'), response: CanonicalResponseSchema, servedBy: ServedBySchema }),
  z.strictObject({ ...Envelope, kind: z.literal('error'), error: ReplyErrorSchema }),
]);
export type Reply = z.infer<typeof ReplySchema>;
export type ReplyBody = Reply extends infer R ? (R extends Reply ? Omit<R, 'seq' | 'node'> : never) : never;

export const RequestHeadersSchema = z.strictObject({
  tenant: z.string().min(1).max(128).optional(),
  priority: z.enum(PRIORITIES).optional(),
  deadlineMs: z.coerce.number().int().positive().max(3_600_000).optional(),
  requestId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'expected 1-64 letters, digits, _ or -' }).optional(),
  stream: z.enum(['0', '1']).optional(),
});
export type RequestHeaders = z.infer<typeof RequestHeadersSchema>;
