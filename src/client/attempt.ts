/**
 * One send of a request: its own request id and caller token, the request published once with a
 * reply subject of the client's inbox, and the node's replies put back in order. A gap (a NATS
 * server died between node and caller) is not a failure: the attempt buffers what came early and
 * asks the node, on `sy.replay.<id>`, for what it missed; a keepalive saying the node sent more
 * than arrived does the same. Only when the node can no longer replay is the attempt lost.
 */
import { ClosedConnectionError, DrainingConnectionError, InvalidArgumentError, type Msg, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import type { SwitchyardError } from '../domain/index.js';
import { cancelSubject, replaySubject, type DataReply, type Reply } from '../transport/index.js';
import { ClientError } from './errors.js';
import type { InboxListener, ReplyInbox } from './inbox.js';

/** Replies held while an earlier one is missing; more means the gap will not close. */
const MAX_EARLY_REPLIES = 4_096;
/** At most one replay request per this long, however many gaps show. */
const REPLAY_EVERY_MS = 200;

/** What an attempt tells its exchange. `heard` comes once, with the node's first message of any kind. */
export type AttemptEvent =
  | { type: 'heard' }
  | { type: 'data'; reply: Exclude<DataReply, { kind: 'accepted' }> }
  | { type: 'declined'; reason: string; /** On a hand-back, a peer with room, to send the request to by name. */ to?: string | undefined }
  | { type: 'lost'; what: string }
  | { type: 'failed'; error: SwitchyardError };

export interface AttemptSpec {
  nc: NatsConnection;
  inbox: ReplyInbox;
  /** The request subject, `sy.req.<usecase>`, or `sy.req.<usecase>.<node>` addressed to one node. */
  subject: string;
  /** The node it is addressed to, if one: no responders then means that node is gone, not every node. */
  to?: string | undefined;
  prefix: string;
  requestId: string;
  callerToken: string;
  payload: Uint8Array;
  headers: MsgHdrs;
  onEvent: (attempt: Attempt, event: AttemptEvent) => void;
}

export class Attempt implements InboxListener {
  readonly requestId: string;
  readonly to: string | undefined;
  /** The node holding this request, once it has said anything. */
  node: string | undefined;
  /** When the node was last heard from (Date.now()). */
  lastHeard = Date.now();
  private nextSeq = 0;
  private readonly early = new Map<number, DataReply>();
  private lastReplayAsk = -Infinity;
  private closeInbox: (() => void) | undefined;
  private done = false;
  private cancelSent = false;

  constructor(private readonly spec: AttemptSpec) {
    this.requestId = spec.requestId;
    this.to = spec.to;
  }

  /** Registers its reply subject before publishing, so neither the first reply nor a no-responders status can be missed. */
  start(): void {
    try {
      const { subject, close } = this.spec.inbox.register(this);
      this.closeInbox = close;
      this.spec.nc.publish(this.spec.subject, this.spec.payload, { reply: subject, headers: this.spec.headers });
    } catch (error) {
      this.emit({ type: 'failed', error: sendError(error, this.spec.subject) });
    }
  }

  reply(reply: Reply): void {
    if (this.done) return;
    // Once a node holds the request, nobody else speaks for it.
    if (this.node !== undefined && reply.node !== this.node) return;
    if (reply.kind === 'declined') {
      this.emit({ type: 'declined', reason: reply.reason, to: reply.to });
      return;
    }
    const first = this.node === undefined;
    this.node = reply.node;
    this.lastHeard = Date.now();
    if (first) this.emit({ type: 'heard' });
    if (reply.kind !== 'keepalive') return this.take(reply);
    // A keepalive says how far the node got: behind it, something was lost on the way.
    if (reply.first > this.nextSeq) this.emit({ type: 'lost', what: `node ${reply.node} can no longer replay reply ${this.nextSeq}` });
    else if (reply.last >= this.nextSeq) this.askReplay();
  }

  status(msg: Msg): void {
    const error =
      msg.headers?.code === 503
        ? new ClientError('router_unavailable', `no router node is listening on ${this.spec.subject}: NATS found no subscriber for the request`)
        : new ClientError('router_protocol', `NATS answered ${this.spec.subject} with status ${msg.headers?.status ?? 'unknown'}`, { retryable: false });
    this.emit({ type: 'failed', error });
  }

  malformed(what: string): void {
    this.emit({ type: 'failed', error: new ClientError('router_protocol', `request ${this.requestId}: the router node sent ${what}`, { retryable: false }) });
  }

  closed(error: Error): void {
    this.emit({ type: 'failed', error: new ClientError('router_unavailable', `the reply subscription closed: ${error.message}`, { cause: error }) });
  }

  /** Asks the node to send again everything from the first missing reply; also a liveness probe. */
  askReplay(force = false): void {
    const now = Date.now();
    if (this.done || (!force && now - this.lastReplayAsk < REPLAY_EVERY_MS)) return;
    this.lastReplayAsk = now;
    this.publish(replaySubject(this.requestId, this.spec.prefix), JSON.stringify({ token: this.spec.callerToken, from: this.nextSeq }));
  }

  /** Tells the node to stop; once. Only the caller's token makes a node listen. */
  cancel(): void {
    if (this.cancelSent) return;
    this.cancelSent = true;
    this.publish(cancelSubject(this.requestId, this.spec.prefix), JSON.stringify({ token: this.spec.callerToken }));
  }

  close(): void {
    this.done = true;
    this.early.clear();
    this.closeInbox?.();
  }

  private take(reply: DataReply): void {
    if (reply.seq < this.nextSeq) return;
    if (reply.seq > this.nextSeq) {
      if (this.early.size >= MAX_EARLY_REPLIES) return this.emit({ type: 'lost', what: `replies from ${this.nextSeq} never arrived` });
      this.early.set(reply.seq, reply);
      this.askReplay();
      return;
    }
    for (let next: DataReply | undefined = reply; next && !this.done; next = this.early.get(this.nextSeq)) {
      this.early.delete(next.seq);
      this.nextSeq = next.seq + 1;
      if (next.kind !== 'accepted') this.emit({ type: 'data', reply: next });
    }
  }

  private emit(event: AttemptEvent): void {
    if (!this.done) this.spec.onEvent(this, event);
  }

  private publish(subject: string, data: string): void {
    try {
      this.spec.nc.publish(subject, data);
    } catch {
      // A closed connection cannot carry it; the node's own deadline and keepalives end the request.
    }
  }
}

function sendError(error: unknown, subject: string): SwitchyardError {
  if (error instanceof ClientError) return error;
  if (error instanceof InvalidArgumentError) {
    return new ClientError('invalid_request', `the request cannot be sent on ${subject}: ${error.message}`, { field: 'request', retryable: false, cause: error });
  }
  const closed = error instanceof ClosedConnectionError || error instanceof DrainingConnectionError;
  const why = closed ? 'the NATS connection is closed' : error instanceof Error ? error.message : String(error);
  return new ClientError('router_unavailable', `cannot send the request on ${subject}: ${why}`, { cause: error });
}
