/**
 * One request from send to its last reply, across at most two attempts (DESIGN.md section 4): when
 * the node holding a request goes silent before anything was delivered, the request is sent once
 * more under a new id, so another node of the queue group takes it, and the first is cancelled.
 * Once delivery has begun a retry could duplicate output, so silence then is an error. The caller's
 * abort signal and deadline span both attempts.
 */
import { headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import type { Priority, StreamEvent, SwitchyardError } from '../domain/index.js';
import { Header, type Reply } from '../transport/index.js';
import { Attempt } from './attempt.js';
import { cancelledError, ClientError, deadlineError, errorFromReply } from './errors.js';

export type ServedBy = Extract<Reply, { kind: 'result' }>['servedBy'];

export interface ExchangeSpec {
  nc: NatsConnection;
  prefix: string;
  subject: string;
  payload: Uint8Array;
  stream: boolean;
  requestId: string;
  tenant?: string | undefined;
  priority?: Priority | undefined;
  deadlineMs?: number | undefined;
  idleTimeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Lets the client end every open exchange when it closes; returns the unregister function. */
  track: (stop: (error: SwitchyardError) => void) => () => void;
}

/** What an exchange hands on: a stream event, or the one result of a plain request. */
export type ExchangeItem =
  | { kind: 'event'; event: StreamEvent; servedBy?: ServedBy | undefined; requestId: string }
  | { kind: 'result'; reply: Extract<Reply, { kind: 'result' }>; requestId: string };

/** The retry's id: recognisably the same request in logs, still a valid 64-character subject token. */
export function retryRequestId(requestId: string): string {
  return `${requestId.slice(0, 61)}-r1`;
}

export async function* exchange(spec: ExchangeSpec): AsyncGenerator<ExchangeItem, void, undefined> {
  const deadlineAt = spec.deadlineMs === undefined ? undefined : Date.now() + spec.deadlineMs;
  let delivered = false;
  let text = '';
  let startSeen = false;
  let finished = false;
  let attempt: Attempt | undefined;
  const deliveredText = (): string | undefined => (delivered ? text : undefined);

  // Abort, deadline and client close all end the exchange the same way: cancel the node's work and
  // make the reader's next step throw, even while it waits.
  const stop = (error: SwitchyardError): void => {
    if (finished || !attempt) return;
    attempt.cancel();
    attempt.interrupt(error);
  };
  const onAbort = (): void => stop(cancelledError(deliveredText(), spec.signal?.reason));
  const untrack = spec.track(stop);
  spec.signal?.addEventListener('abort', onAbort, { once: true });
  const deadlineTimer = deadlineAt === undefined ? undefined : setTimeout(() => stop(deadlineError(spec.deadlineMs ?? 0, deliveredText())), spec.deadlineMs);

  const send = (requestId: string): Attempt => {
    const headers = natsHeaders();
    headers.set(Header.RequestId, requestId);
    if (spec.tenant !== undefined) headers.set(Header.Tenant, spec.tenant);
    if (spec.priority !== undefined) headers.set(Header.Priority, spec.priority);
    // The header counts from when this attempt is sent, so a retry carries only what is left.
    if (deadlineAt !== undefined) headers.set(Header.DeadlineMs, String(Math.max(1, deadlineAt - Date.now())));
    if (spec.stream) headers.set(Header.Stream, '1');
    const next = new Attempt({ nc: spec.nc, subject: spec.subject, prefix: spec.prefix, requestId, payload: spec.payload, headers, idleTimeoutMs: spec.idleTimeoutMs });
    next.start();
    return next;
  };

  try {
    if (spec.signal?.aborted) throw cancelledError(undefined, spec.signal.reason);
    attempt = send(spec.requestId);
    let retried = false;
    for (;;) {
      const outcome = await attempt.next();
      if (outcome.type === 'idle' || outcome.type === 'lost') {
        attempt.cancel();
        if (delivered || retried) {
          throw outcome.type === 'idle' ? silenceError(attempt.requestId, spec.idleTimeoutMs, deliveredText()) : lostError(attempt.requestId, outcome.what, deliveredText());
        }
        retried = true;
        attempt = send(retryRequestId(spec.requestId));
        continue;
      }
      const reply = outcome.reply;
      const requestId = attempt.requestId;
      if (reply.kind === 'error') {
        finished = true;
        throw errorFromReply(reply.error, deliveredText());
      }
      if (reply.kind === 'result') {
        if (spec.stream) throw mismatch(requestId, 'a plain result to a stream request');
        finished = true;
        yield { kind: 'result', reply, requestId };
        return;
      }
      if (!spec.stream) throw mismatch(requestId, 'a stream event to a plain request');
      const event = reply.event;
      if (event.type === 'end') finished = true;
      if (event.type === 'delta') {
        delivered = true;
        if (event.delta.type === 'text') text += event.delta.text;
      }
      // A retry after a silent start would begin the stream again; the reader has its start already.
      if (event.type === 'start') {
        if (startSeen) continue;
        startSeen = true;
      }
      yield { kind: 'event', event, servedBy: reply.servedBy, requestId };
      if (finished) return;
    }
  } finally {
    clearTimeout(deadlineTimer);
    spec.signal?.removeEventListener('abort', onAbort);
    untrack();
    // Leaving early (an error here, or the reader breaking out of its loop) must free the node too.
    if (attempt && !finished) attempt.cancel();
    attempt?.close();
  }
}

function lostError(requestId: string, what: string, delivered: string | undefined): ClientError {
  return new ClientError('router_protocol', `request ${requestId}: ${what}`, { delivered, retryable: true });
}

function silenceError(requestId: string, idleTimeoutMs: number, delivered: string | undefined): ClientError {
  const message =
    delivered !== undefined
      ? `the router node went silent for ${idleTimeoutMs} ms after the answer had begun (request ${requestId})`
      : `the router node went silent for ${idleTimeoutMs} ms, on the first try and again on the retry (request ${requestId})`;
  return new ClientError('router_timeout', message, { delivered, retryable: true });
}

function mismatch(requestId: string, what: string): ClientError {
  return new ClientError('router_protocol', `request ${requestId}: the router node sent ${what}`, { retryable: false });
}
