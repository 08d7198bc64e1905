/**
 * One try of a request: a fresh inbox, the request published once with that inbox as its reply
 * subject, and the node's numbered replies checked as they arrive (schema, sequence, NATS status)
 * and queued for the reader. An idle timer measures the node's silence, not the reader's pace:
 * keepalives reset it, and a slow reader does not make a live node look dead.
 */
import {
  ClosedConnectionError,
  createInbox,
  DrainingConnectionError,
  InvalidArgumentError,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import type { SwitchyardError } from '../domain/index.js';
import { cancelSubject, type Reply, ReplySchema } from '../transport/index.js';
import { ClientError } from './errors.js';

export interface AttemptSpec {
  nc: NatsConnection;
  subject: string;
  prefix: string;
  requestId: string;
  payload: Uint8Array;
  headers: MsgHdrs;
  idleTimeoutMs: number;
}

/** A reply worth handing on (keepalives and `accepted` only feed the idle timer), or the node's silence. */
export type AttemptOutcome =
  | { type: 'reply'; reply: Exclude<Reply, { kind: 'accepted' | 'keepalive' }> }
  | { type: 'idle' }
  /** Replies went missing (a NATS server died between node and caller): as good as silence. */
  | { type: 'lost'; what: string };

function isTerminal(reply: Reply): boolean {
  return reply.kind === 'result' || reply.kind === 'error' || (reply.kind === 'event' && reply.event.type === 'end');
}

export class Attempt {
  readonly requestId: string;
  private readonly queue: AttemptOutcome[] = [];
  private failure: SwitchyardError | undefined;
  private wake: (() => void) | undefined;
  private nextSeq = 0;
  private timer: NodeJS.Timeout | undefined;
  private sub: Subscription | undefined;
  /** No more messages will be taken: a terminal reply, silence, a failure, or close(). */
  private done = false;
  private cancelSent = false;

  constructor(private readonly spec: AttemptSpec) {
    this.requestId = spec.requestId;
  }

  /** Subscribes before publishing, so neither the first reply nor a no-responders status can be missed. */
  start(): void {
    const inbox = createInbox();
    try {
      this.sub = this.spec.nc.subscribe(inbox, { callback: (err, msg) => this.onMessage(err, msg) });
      this.armIdle();
      this.spec.nc.publish(this.spec.subject, this.spec.payload, { reply: inbox, headers: this.spec.headers });
    } catch (err) {
      this.fail(sendError(err, this.spec.subject));
    }
  }

  async next(): Promise<AttemptOutcome> {
    for (;;) {
      const queued = this.queue.shift();
      if (queued) return queued;
      if (this.failure) throw this.failure;
      if (this.done) throw new ClientError('router_protocol', `request ${this.requestId}: read past its last reply`, { retryable: false });
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Ends the attempt with an error the reader sees next, ahead of anything still queued (abort, deadline). */
  interrupt(error: SwitchyardError): void {
    this.queue.length = 0;
    this.fail(error);
  }

  /** Tells the node to stop working on this request; once, and only when it may still be working. */
  cancel(): void {
    if (this.cancelSent) return;
    this.cancelSent = true;
    try {
      this.spec.nc.publish(cancelSubject(this.requestId, this.spec.prefix));
    } catch {
      // A closed connection cannot carry the cancel; the node's own deadline and idle checks end it.
    }
  }

  close(): void {
    this.finish();
    this.notify();
  }

  private onMessage(err: Error | null, msg: Msg): void {
    if (this.done) return;
    if (err) return this.fail(new ClientError('router_unavailable', `the reply subscription closed: ${err.message}`, { cause: err }));
    this.armIdle();
    const status = statusError(msg, this.spec.subject);
    if (status) return this.fail(status);
    let reply: Reply;
    try {
      const parsed = ReplySchema.safeParse(msg.json<unknown>());
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
        return this.fail(this.protocolError(`a malformed reply (${where}${issue?.message ?? 'invalid'})`));
      }
      reply = parsed.data;
    } catch {
      return this.fail(this.protocolError('a reply that is not JSON'));
    }
    if (reply.seq !== this.nextSeq) {
      // A NATS server dying between node and caller drops replies; the exchange decides whether a retry is safe.
      this.queue.push({ type: 'lost', what: `reply ${reply.seq} where ${this.nextSeq} was next: replies were lost or reordered` });
      this.finish();
      this.notify();
      return;
    }
    this.nextSeq += 1;
    if (reply.kind === 'accepted') {
      if (reply.requestId !== this.requestId) return this.fail(this.protocolError(`an acceptance for request ${reply.requestId}`));
      return;
    }
    if (reply.kind === 'keepalive') return;
    this.queue.push({ type: 'reply', reply });
    if (isTerminal(reply)) this.finish();
    this.notify();
  }

  private protocolError(what: string): ClientError {
    return new ClientError('router_protocol', `request ${this.requestId}: the router node sent ${what}`, { retryable: false });
  }

  private armIdle(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.done) return;
      this.queue.push({ type: 'idle' });
      this.finish();
      this.notify();
    }, this.spec.idleTimeoutMs);
  }

  private fail(error: SwitchyardError): void {
    if (this.failure) return;
    this.failure = error;
    this.finish();
    this.notify();
  }

  private finish(): void {
    this.done = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.sub && !this.sub.isClosed()) this.sub.unsubscribe();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** A NATS status message on the inbox: 503 is the server saying no one subscribes to the request subject. */
function statusError(msg: Msg, subject: string): ClientError | undefined {
  const headers = msg.headers;
  if (!headers?.hasError) return undefined;
  if (headers.code === 503) {
    return new ClientError('router_unavailable', `no router node is listening on ${subject}: NATS found no subscriber for the request`);
  }
  return new ClientError('router_protocol', `NATS answered ${subject} with status ${headers.status}`, { retryable: false });
}

function sendError(err: unknown, subject: string): ClientError {
  if (err instanceof InvalidArgumentError) {
    return new ClientError('invalid_request', `the request cannot be sent on ${subject}: ${err.message}`, { field: 'request', retryable: false, cause: err });
  }
  const closed = err instanceof ClosedConnectionError || err instanceof DrainingConnectionError;
  const why = closed ? 'the NATS connection is closed' : err instanceof Error ? err.message : String(err);
  return new ClientError('router_unavailable', `cannot send the request on ${subject}: ${why}`, { cause: err });
}
