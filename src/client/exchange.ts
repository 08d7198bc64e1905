/**
 * One request from send to its last reply (docs/design.md §4), across as many sends as it takes:
 *
 * - A node acknowledges at once. No word from any node within `ackTimeoutMs` (a frozen node still
 *   in the queue group) sends the request again, under a new id, while the first send may still
 *   answer: whichever node speaks first keeps the request and the others are cancelled. Each
 *   further silent round sends one copy more (up to three), since the queue group may hand every
 *   copy to the same frozen node; this goes on until a node answers or `idleTimeoutMs` passes.
 * - Silence from the node holding the request is probed with replay requests; if it lasts
 *   `idleTimeoutMs`, the request goes once more to another node when nothing was delivered yet,
 *   with that node named in `sy-avoid-nodes`. Once delivery has begun a retry could duplicate
 *   output, so silence then is an error carrying what was delivered.
 * - A node with no room for the request while a peer has some hands it back (`declined`, before
 *   calling any vendor): it goes again at once, at most MAX_HANDBACKS times, to the peer the node
 *   named, on that peer's own subject (the queue group prefers the client's own server, where the
 *   refusing node may be the only one); else, or if that peer is gone, to the queue group,
 *   avoiding the node.
 * - While the connection is down, no timer runs: a NATS restart is not a node's silence. On
 *   reconnect the request asks its node for whatever it missed.
 *
 * The caller's abort signal and deadline span every send.
 */
import { headers as natsHeaders } from '@nats-io/transport-node';
import type { SwitchyardError } from '../domain/index.js';
import { directRequestSubject, Header, KEEPALIVE_MS, MAX_AVOIDED_NODES, MAX_HANDBACKS, randomToken, type DataReply } from '../transport/index.js';
import { Attempt, type AttemptEvent } from './attempt.js';
import { cancelledError, ClientError, deadlineError, errorFromReply, mismatch, silenceError } from './errors.js';
import type { ExchangeItem, ExchangeSpec } from './exchange-spec.js';

export type { ExchangeControl, ExchangeItem, ExchangeSpec, ServedBy } from './exchange-spec.js';

/** Sends of one request at most; with the default timings a frozen node costs one or two. */
const MAX_SENDS = 63;
/** Copies sent in one silent round at most. */
const MAX_COPIES = 3;
/** Declines before the client stops asking to avoid nodes: a served request beats a perfect one. */
const MAX_DECLINES = 3;

/** The id of the n-th resend: recognisably the same request in logs, still a 64-character subject token. */
function retryRequestId(requestId: string, n = 1): string {
  return `${requestId.slice(0, 60)}-r${n}`;
}

type Item = { type: 'attempt'; attempt: Attempt; event: AttemptEvent } | { type: 'ackTimeout' } | { type: 'silence'; attempt: Attempt };

export async function* exchange(spec: ExchangeSpec): AsyncGenerator<ExchangeItem, void, undefined> {
  const run = new Exchange(spec);
  try {
    yield* run.items();
  } finally {
    run.end();
  }
}

class Exchange {
  private readonly open = new Set<Attempt>();
  private current: Attempt | undefined;
  private sends = 0;
  private declines = 0;
  /** Times the holding node handed the request back, and the nodes that did (protocol.ts). */
  private handbacks = 0;
  private readonly handedBackBy = new Set<string>();
  private declinesAtHandback = 0;
  /** The peer the last hand-back named: the next send goes to it by name. */
  private sendTo: string | undefined;
  private silentRounds = 0;
  private unheardSince: number | undefined;
  private retriedAfterSilence = false;
  private delivered = false;
  private text = '';
  private startSeen = false;
  private finished = false;
  private paused = false;
  private readonly queue: Item[] = [];
  private failure: SwitchyardError | undefined;
  private wake: (() => void) | undefined;
  private ackTimer: NodeJS.Timeout | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private untrack: (() => void) | undefined;
  /** How long the holding node may be silent before we ask it for news; it says something every second. */
  private readonly probeEveryMs: number;
  private readonly deadlineAt: number | undefined;
  private readonly onAbort = (): void => this.stop(cancelledError(this.deliveredText(), this.spec.signal?.reason));

  constructor(private readonly spec: ExchangeSpec) {
    this.probeEveryMs = Math.max(25, Math.min(2 * KEEPALIVE_MS, Math.floor(spec.idleTimeoutMs / 3)));
    this.deadlineAt = spec.deadlineMs === undefined ? undefined : Date.now() + spec.deadlineMs;
  }

  async *items(): AsyncGenerator<ExchangeItem, void, undefined> {
    const { spec } = this;
    this.untrack = spec.track({ stop: (error) => this.stop(error), pause: () => this.pause(), resume: () => this.resume() });
    spec.signal?.addEventListener('abort', this.onAbort, { once: true });
    if (spec.deadlineMs !== undefined) this.deadlineTimer = setTimeout(() => this.stop(deadlineError(spec.deadlineMs ?? 0, this.deliveredText())), spec.deadlineMs);
    if (spec.signal?.aborted) throw cancelledError(undefined, spec.signal.reason);
    this.send();
    for (;;) {
      const item = await this.next();
      if (item.type === 'ackTimeout') {
        this.onAckTimeout();
        continue;
      }
      const { attempt } = item;
      if (item.type === 'silence') {
        if (attempt === this.current) this.onNodeGone(attempt, silenceError(attempt.requestId, spec.idleTimeoutMs, this.deliveredText()));
        continue;
      }
      const event = item.event;
      switch (event.type) {
        case 'heard':
          if (!this.current) this.adopt(attempt);
          else if (attempt !== this.current) this.drop(attempt);
          continue;
        case 'declined':
          this.onDeclined(attempt, event.to);
          continue;
        case 'failed':
          if (this.current && attempt !== this.current) this.drop(attempt);
          else if (attempt.to !== undefined && !this.current && event.error.code === 'router_unavailable') this.onPeerGone(attempt, attempt.to);
          else throw event.error;
          continue;
        case 'lost':
          if (attempt === this.current) this.onNodeGone(attempt, new ClientError('router_protocol', `request ${attempt.requestId}: ${event.what}`, { delivered: this.deliveredText(), retryable: true }));
          continue;
        case 'data': {
          if (attempt !== this.current) continue;
          const handed = this.handle(event.reply, attempt.requestId);
          if (handed) yield handed;
          if (this.finished) return;
        }
      }
    }
  }

  /** Leaving early (an error, the reader breaking out of its loop) must free the node too. */
  end(): void {
    clearTimeout(this.deadlineTimer);
    this.stopTimers();
    this.spec.signal?.removeEventListener('abort', this.onAbort);
    this.untrack?.();
    for (const attempt of this.open) {
      if (!this.finished) attempt.cancel();
      attempt.close();
    }
    this.open.clear();
  }

  /** A data reply from the node holding the request: what the reader gets, if anything. */
  private handle(reply: Exclude<DataReply, { kind: 'accepted' }>, requestId: string): ExchangeItem | undefined {
    if (reply.kind === 'error') {
      this.finished = true;
      throw errorFromReply(reply.error, this.deliveredText());
    }
    if (reply.kind === 'result') {
      if (this.spec.stream) throw mismatch(requestId, 'a plain result to a stream request');
      this.finished = true;
      return { kind: 'result', reply, requestId };
    }
    if (!this.spec.stream) throw mismatch(requestId, 'a stream event to a plain request');
    const event = reply.event;
    if (event.type === 'end') this.finished = true;
    if (event.type === 'delta') {
      this.delivered = true;
      if (event.delta.type === 'text') this.text += event.delta.text;
    }
    // A resend after a silent start begins the stream again; the reader has its start already.
    if (event.type === 'start') {
      if (this.startSeen) return undefined;
      this.startSeen = true;
    }
    return { kind: 'event', event, servedBy: reply.servedBy, requestId };
  }

  private send(): void {
    const { spec } = this;
    if (this.sends >= MAX_SENDS) return this.fail(new ClientError('router_timeout', `request ${spec.requestId}: no router node kept it after ${MAX_SENDS} sends`));
    const requestId = this.sends === 0 ? spec.requestId : retryRequestId(spec.requestId, this.sends);
    this.sends++;
    const callerToken = randomToken();
    const headers = natsHeaders();
    headers.set(Header.RequestId, requestId);
    headers.set(Header.CallerToken, callerToken);
    if (spec.tenant !== undefined) headers.set(Header.Tenant, spec.tenant);
    if (spec.priority !== undefined) headers.set(Header.Priority, spec.priority);
    // The header counts from when this send goes out, so a resend carries only what is left.
    if (this.deadlineAt !== undefined) headers.set(Header.DeadlineMs, String(Math.max(1, this.deadlineAt - Date.now())));
    if (spec.stream) headers.set(Header.Stream, '1');
    // Declined for avoiding the node that handed it back, the request keeps reaching that node
    // (the queue group prefers a client's own server, and it may be the only one there): the next
    // send goes to whoever takes it and asks to be kept.
    const keep = this.handbacks > 0 && this.declines > this.declinesAtHandback;
    const avoid = this.declines < MAX_DECLINES ? [...new Set([...spec.failedNodes.list(), ...(keep ? [] : this.handedBackBy)])].slice(0, MAX_AVOIDED_NODES) : [];
    if (avoid.length > 0) headers.set(Header.AvoidNodes, avoid.join(','));
    if (this.handbacks > 0) headers.set(Header.Handbacks, String(keep ? Math.max(MAX_HANDBACKS, this.handbacks) : this.handbacks));
    const to = this.sendTo;
    this.sendTo = undefined;
    const attempt = new Attempt({
      nc: spec.nc,
      inbox: spec.inbox,
      subject: to === undefined ? spec.subject : directRequestSubject(spec.useCase, to, spec.prefix),
      to,
      prefix: spec.prefix,
      requestId,
      callerToken,
      payload: spec.payload,
      headers,
      onEvent: (a, event) => this.push({ type: 'attempt', attempt: a, event }),
    });
    this.open.add(attempt);
    if (!this.current) {
      this.unheardSince ??= Date.now();
      this.armAck();
    }
    attempt.start();
  }

  /** The first node to speak keeps the request; every other send is cancelled. */
  private adopt(attempt: Attempt): void {
    this.current = attempt;
    this.unheardSince = undefined;
    this.silentRounds = 0;
    clearTimeout(this.ackTimer);
    for (const other of this.open) if (other !== attempt) this.drop(other);
    this.armTicker();
  }

  private drop(attempt: Attempt): void {
    attempt.cancel();
    attempt.close();
    this.open.delete(attempt);
  }

  private onAckTimeout(): void {
    if (this.current || this.paused) return;
    if (Date.now() - (this.unheardSince ?? Date.now()) >= this.spec.idleTimeoutMs) {
      return this.fail(new ClientError('router_timeout', `no router node took request ${this.spec.requestId} within ${this.spec.idleTimeoutMs} ms (${this.sends} sends)`));
    }
    // With one node of two frozen, k copies all reach it with probability 2^-k.
    this.silentRounds++;
    for (let i = 0; i < Math.min(this.silentRounds, MAX_COPIES); i++) this.send();
  }

  private onDeclined(attempt: Attempt, to?: string): void {
    if (attempt === this.current) return this.onHandedBack(attempt, to);
    attempt.close();
    this.open.delete(attempt);
    if (this.current || this.open.size > 0) return;
    this.declines++;
    this.send();
  }

  /** The peer a hand-back named has no subscriber (it stopped or is draining): the queue group decides. */
  private onPeerGone(attempt: Attempt, node: string): void {
    this.spec.failedNodes.note(node);
    attempt.close();
    this.open.delete(attempt);
    if (this.open.size === 0) this.send();
  }

  /**
   * The node holding the request had no room for it while a peer had, and said so before calling
   * any vendor: it goes again, avoiding that node. Once anything has reached the reader a
   * `declined` is no hand-back but a forgery or a broken node, and the request stays where it is.
   */
  private onHandedBack(attempt: Attempt, to: string | undefined): void {
    if (this.delivered || this.startSeen) return;
    if (attempt.node !== undefined) this.handedBackBy.add(attempt.node);
    // A peer the client has just seen fail, or one that handed the request back already, is no better.
    if (to !== undefined && this.spec.mayDirect() && !this.handedBackBy.has(to) && !this.spec.failedNodes.list().includes(to)) this.sendTo = to;
    this.handbacks++;
    this.declinesAtHandback = this.declines;
    // The node let the request go as it said so; the cancel stops it all the same if the decline was forged.
    this.drop(attempt);
    this.current = undefined;
    this.stopTimers();
    this.send();
  }

  /** The node holding the request went silent or cannot replay what we missed. */
  private onNodeGone(attempt: Attempt, error: SwitchyardError): void {
    if (attempt.node !== undefined) this.spec.failedNodes.note(attempt.node);
    this.drop(attempt);
    this.current = undefined;
    this.stopTimers();
    if (this.delivered || this.retriedAfterSilence) return this.fail(error);
    this.retriedAfterSilence = true;
    this.send();
  }

  private pause(): void {
    this.paused = true;
    this.stopTimers();
  }

  private resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.current) {
      this.current.lastHeard = Date.now();
      this.current.askReplay(true);
      this.armTicker();
    } else if (!this.finished) {
      this.unheardSince = Date.now();
      this.armAck();
    }
  }

  private armAck(): void {
    clearTimeout(this.ackTimer);
    if (!this.paused) this.ackTimer = setTimeout(() => this.push({ type: 'ackTimeout' }), this.spec.ackTimeoutMs);
  }

  private armTicker(): void {
    clearInterval(this.ticker);
    if (this.paused) return;
    this.ticker = setInterval(() => {
      const current = this.current;
      if (!current) return;
      const silence = Date.now() - current.lastHeard;
      if (silence >= this.spec.idleTimeoutMs) this.push({ type: 'silence', attempt: current });
      else if (silence >= this.probeEveryMs) current.askReplay();
    }, this.probeEveryMs);
  }

  private stopTimers(): void {
    clearTimeout(this.ackTimer);
    clearInterval(this.ticker);
  }

  /** Abort, deadline and client close all end the exchange the same way: the reader's next step throws. */
  private stop(error: SwitchyardError): void {
    if (this.finished) return;
    for (const attempt of this.open) attempt.cancel();
    this.queue.length = 0;
    this.fail(error);
  }

  private fail(error: SwitchyardError): void {
    this.failure ??= error;
    this.stopTimers();
    this.notify();
  }

  private push(item: Item): void {
    this.queue.push(item);
    this.notify();
  }

  private async next(): Promise<Item> {
    for (;;) {
      if (this.failure) throw this.failure;
      const queued = this.queue.shift();
      if (queued) return queued;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private deliveredText(): string | undefined {
    return this.delivered ? this.text : undefined;
  }
}
