/**
 * The requests a router node holds, by id: each one's reply log (for replays), the caller's token,
 * and the abort controller its work listens to. `sy.cancel.<id>` and `sy.replay.<id>` reach every
 * node; only the node holding the id acts, and only when the message carries the caller's token,
 * compared in constant time. A finished request stays a short while so a caller who missed its
 * end (a NATS restart) can still ask for it; finished requests are bounded in number and bytes,
 * so no stranger can make this table grow without end. One timer says every held request is alive
 * (a keepalive to each caller every `KEEPALIVE_MS`), not one timer per request.
 */
import { timingSafeEqual } from 'node:crypto';
import { CancelSchema, KEEPALIVE_MS, ReplayRequestSchema, ReplyLog, type Publish } from '../src/transport/index.js';

export interface HeldRequest {
  readonly requestId: string;
  readonly log: ReplyLog;
  readonly controller: AbortController;
}

export interface HeldRequestLimits {
  /** How long a finished request's replies stay replayable. */
  retentionMs: number;
  /** Finished requests kept at most; the oldest go first. */
  maxFinished: number;
  /** Bytes of finished replies kept at most. */
  maxFinishedBytes: number;
}

const MAX_CONTROL_BYTES = 512;
const decoder = new TextDecoder();

export const DEFAULT_HELD_LIMITS: HeldRequestLimits = { retentionMs: 15_000, maxFinished: 10_000, maxFinishedBytes: 64 * 1024 * 1024 };

/** Why a control message was refused; counted by the node. */
export type ControlRefusal = 'malformed' | 'wrong_token';

interface Entry extends HeldRequest {
  token: Buffer;
  finishedAt: number | undefined;
}

export class HeldRequests {
  private readonly entries = new Map<string, Entry>();
  /** Finished entries in the order they finished (a Map keeps insertion order). */
  private readonly finished = new Map<string, Entry>();
  private finishedBytes = 0;
  /** Requests being worked on, which the keepalive timer speaks for. */
  private readonly live = new Set<Entry>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly keepalive: NodeJS.Timeout;

  constructor(
    private readonly node: string,
    private readonly publish: Publish,
    private readonly limits: HeldRequestLimits = DEFAULT_HELD_LIMITS,
    private readonly now: () => number = Date.now,
  ) {
    this.sweeper = setInterval(() => this.sweep(), Math.max(100, limits.retentionMs / 4));
    this.sweeper.unref();
    this.keepalive = setInterval(() => {
      for (const entry of this.live) entry.log.keepalive();
    }, KEEPALIVE_MS);
    this.keepalive.unref();
  }

  /** Whether a request of this id is being worked on here now. */
  inFlight(requestId: string): boolean {
    const entry = this.entries.get(requestId);
    return entry !== undefined && entry.finishedAt === undefined;
  }

  open(requestId: string, inbox: string, token: string): HeldRequest {
    // A finished request of the same id gives way: ids are the caller's, and it has moved on.
    this.forget(requestId);
    const entry: Entry = { requestId, log: new ReplyLog(requestId, this.node, inbox, this.publish), controller: new AbortController(), token: Buffer.from(token), finishedAt: undefined };
    this.entries.set(requestId, entry);
    this.live.add(entry);
    return entry;
  }

  finish(requestId: string): void {
    const entry = this.entries.get(requestId);
    if (!entry || entry.finishedAt !== undefined) return;
    entry.finishedAt = this.now();
    this.live.delete(entry);
    this.finished.set(requestId, entry);
    this.finishedBytes += entry.log.bytes;
    this.sweep();
  }

  /** `sy.cancel.<id>`: undefined when the request is not held here (another node's) or was cancelled. */
  cancel(requestId: string, data: Uint8Array): ControlRefusal | undefined {
    const entry = this.entries.get(requestId);
    if (!entry) return undefined;
    const refusal = this.check(entry, CancelSchema, data);
    if (refusal) return refusal;
    entry.controller.abort();
    return undefined;
  }

  /** `sy.replay.<id>`: sends the caller what it asks for again, if it proves it is the caller. */
  replay(requestId: string, data: Uint8Array): ControlRefusal | undefined {
    const entry = this.entries.get(requestId);
    if (!entry) return undefined;
    let from = 0;
    const refusal = this.check(entry, ReplayRequestSchema, data, (body) => (from = body.from));
    if (refusal) return refusal;
    entry.log.replay(from);
    return undefined;
  }

  stop(): void {
    clearInterval(this.sweeper);
    clearInterval(this.keepalive);
  }

  private check<T extends { token: string }>(entry: Entry, schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } }, data: Uint8Array, use?: (body: T) => void): ControlRefusal | undefined {
    // A token and a number: anything longer is not a control message, and is not worth parsing.
    if (data.byteLength > MAX_CONTROL_BYTES) return 'malformed';
    let json: unknown;
    try {
      json = JSON.parse(decoder.decode(data));
    } catch {
      return 'malformed';
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) return 'malformed';
    const token = Buffer.from(parsed.data.token);
    if (token.length !== entry.token.length || !timingSafeEqual(token, entry.token)) return 'wrong_token';
    use?.(parsed.data);
    return undefined;
  }

  private forget(requestId: string): void {
    const entry = this.finished.get(requestId);
    if (!entry) return;
    this.finished.delete(requestId);
    this.entries.delete(requestId);
    this.finishedBytes -= entry.log.bytes;
  }

  private sweep(): void {
    const expired = this.now() - this.limits.retentionMs;
    for (const [id, entry] of this.finished) {
      const over = this.finished.size > this.limits.maxFinished || this.finishedBytes > this.limits.maxFinishedBytes;
      if (!over && (entry.finishedAt ?? 0) > expired) break;
      this.forget(id);
    }
  }
}
