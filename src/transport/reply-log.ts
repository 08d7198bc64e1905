/**
 * The node's side of one request's replies: numbers each data message, publishes it to the
 * caller's inbox, and keeps the recent ones so the caller can ask for what it missed (a NATS
 * server restart drops whatever was in flight, and nats.js discards what was published while it
 * reconnected). Keepalives say the last number sent, so a caller learns of a gap even when
 * nothing else follows it. Bounded: a stream longer than `maxKept` keeps only its tail.
 */
import type { DataBody, Reply } from './protocol.js';

export const DEFAULT_REPLY_LOG_LIMIT = 4_096;

export type Publish = (subject: string, data: string) => void;

export class ReplyLog {
  private readonly kept: string[] = [];
  /** The number of kept[0]. */
  private first = 0;
  private next = 0;
  /** Bytes kept, for the node's memory bound. */
  bytes = 0;

  constructor(
    readonly requestId: string,
    readonly node: string,
    readonly inbox: string,
    private readonly publish: Publish,
    private readonly maxKept = DEFAULT_REPLY_LOG_LIMIT,
  ) {}

  /** The highest number sent so far; -1 before the first message. */
  get last(): number {
    return this.next - 1;
  }

  send(body: DataBody): void {
    // Object.assign, not a spread followed by fields: on Node 20 a reply made that way cost 3.5 µs
    // with its JSON.stringify, 0.8 this way (docs/architecture.md, "The hot path"; bench/object-copies).
    const data = JSON.stringify(Object.assign({}, body, { id: this.requestId, node: this.node, seq: this.next++ }));
    this.kept.push(data);
    this.bytes += data.length;
    if (this.kept.length > this.maxKept) {
      // Dropping half at a time keeps each send O(1) on average.
      const dropped = this.kept.splice(0, Math.ceil(this.maxKept / 2));
      this.first += dropped.length;
      for (const d of dropped) this.bytes -= d.length;
    }
    this.publish(this.inbox, data);
  }

  keepalive(): void {
    this.publish(this.inbox, this.control({ kind: 'keepalive', last: this.last, first: this.first }));
  }

  /** Sends every kept message numbered `from` or later again, then a keepalive saying where things stand. */
  replay(from: number): void {
    for (let seq = Math.max(from, this.first); seq < this.next; seq++) {
      const data = this.kept[seq - this.first];
      if (data !== undefined) this.publish(this.inbox, data);
    }
    this.keepalive();
  }

  private control(body: Extract<Reply, { kind: 'keepalive' }> extends infer K ? Omit<K, 'id' | 'node'> : never): string {
    return JSON.stringify(Object.assign({}, body, { id: this.requestId, node: this.node }));
  }
}

/** A refusal to a request that names itself, given before any log exists (declined); `to`, a peer with room. */
export function declineMessage(requestId: string, node: string, reason: string, to?: string): string {
  return JSON.stringify({ kind: 'declined', reason, id: requestId, node, ...(to !== undefined ? { to } : {}) });
}
