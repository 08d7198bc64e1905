/**
 * The request protocol on the bus (docs/design.md §4). A request is a canonical request on
 * `sy.req.<usecase>` with headers for tenant, priority, deadline, request id, streaming, the
 * caller's secret token and nodes to avoid. The node that takes it replies to the request's inbox:
 *
 * - numbered data messages: `accepted` at once, then stream `event`s ending in one `end`, or one
 *   `result`, or one `error` (every failure, plain or streamed, in the domain's Failure shape);
 * - unnumbered control messages: `keepalive` while it works, saying the last number it sent, and
 *   `declined` when the caller asked to avoid this node, or when the node, before calling any
 *   vendor, found it had no room for the request where a peer had (a hand-back: the caller sends
 *   it again, to that peer by name where the node named one, else avoiding the node in
 *   `sy-avoid-nodes`, and counting in `sy-handbacks`).
 *
 * Every message names the request, so a caller ignores anything aimed at its inbox for another
 * request. Numbers let the caller see a gap (a NATS server restarted between them) and ask for
 * the missing messages on `sy.replay.<id>`; `sy.cancel.<id>` stops the request. Both carry the
 * caller's token, which only the caller and the node holding the request know.
 */
import { z } from 'zod';
import { CanonicalResponseSchema, FailureSchema, PRIORITIES, StreamEventSchema, type StreamEvent } from '../domain/index.js';

/** How often a node says "still working" while a vendor thinks, so callers can tell a dead node fast. */
export const KEEPALIVE_MS = 1_000;

/** The shape of every id on the bus that becomes a subject token (request ids, node ids). */
export const TOKEN_ID = /^[A-Za-z0-9_-]{1,64}$/;
const IdSchema = z.string().regex(TOKEN_ID, { error: 'expected 1-64 letters, digits, _ or -' });

/** At least 128 bits of base64url: guessing it is hopeless. */
export const CallerTokenSchema = z.string().regex(/^[A-Za-z0-9_-]{22,128}$/, { error: 'expected 22-128 letters, digits, _ or -' });

/** Times a request may be handed back; after that a node keeps it and waits for room. */
export const MAX_HANDBACKS = 2;

/** Most nodes a caller may ask to avoid; a longer list is a mistake or a probe. */
export const MAX_AVOIDED_NODES = 8;

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
export type ReplyEvent = Exclude<StreamEvent, { type: 'error' }>;
const ReplyEventSchema = StreamEventSchema.refine((event): event is ReplyEvent => event.type !== 'error', { error: 'failures come as an error reply, not an error event' });

const Data = { id: IdSchema, node: IdSchema, seq: z.number().int().nonnegative() };
const Control = { id: IdSchema, node: IdSchema };

export const ReplySchema = z.discriminatedUnion('kind', [
  /** `token` is present when the node made the caller's token up (the request carried none). */
  z.strictObject({ ...Data, kind: z.literal('accepted'), token: CallerTokenSchema.optional() }),
  z.strictObject({ ...Data, kind: z.literal('event'), event: ReplyEventSchema, servedBy: ServedBySchema.optional() }),
  z.strictObject({ ...Data, kind: z.literal('result'), response: CanonicalResponseSchema, servedBy: ServedBySchema }),
  z.strictObject({ ...Data, kind: z.literal('error'), error: ReplyErrorSchema }),
  /** `last`: the highest number sent so far (-1 before any); `first`: the lowest the node can still replay. */
  z.strictObject({ ...Control, kind: z.literal('keepalive'), last: z.number().int().min(-1), first: z.number().int().nonnegative() }),
  /** `to`: on a hand-back, a peer that has room, to send the request to by name (`sy.req.<usecase>.<node>`). */
  z.strictObject({ ...Control, kind: z.literal('declined'), reason: z.string().max(256), to: IdSchema.optional() }),
]);
export type Reply = z.infer<typeof ReplySchema>;
export type DataReply = Extract<Reply, { seq: number }>;
export type DataBody = DataReply extends infer R ? (R extends DataReply ? Omit<R, 'id' | 'node' | 'seq'> : never) : never;

/** `sy.cancel.<id>`: stop the request. */
export const CancelSchema = z.strictObject({ token: CallerTokenSchema });
/** `sy.replay.<id>`: send again every data message from `from` on, then a keepalive. */
export const ReplayRequestSchema = z.strictObject({ token: CallerTokenSchema, from: z.number().int().nonnegative() });

export const RequestHeadersSchema = z.strictObject({
  tenant: z.string().min(1).max(128).optional(),
  priority: z.enum(PRIORITIES).optional(),
  deadlineMs: z.coerce.number().int().positive().max(3_600_000).optional(),
  requestId: IdSchema.optional(),
  stream: z.enum(['0', '1']).optional(),
  callerToken: CallerTokenSchema.optional(),
  avoidNodes: z
    .string()
    .transform((list) => list.split(',').filter(Boolean))
    .pipe(z.array(IdSchema).max(MAX_AVOIDED_NODES))
    .optional(),
  handbacks: z.coerce.number().int().nonnegative().max(64).optional(),
});
export type RequestHeaders = z.infer<typeof RequestHeadersSchema>;

/** `sy.admin.drain.<node>` must say so in its body: no other message, least of all a reply, drains a node. */
export const DrainCommandSchema = z.strictObject({ command: z.literal('drain') });
