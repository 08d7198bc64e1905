/**
 * Errors the client library raises itself: no router node listening, a node gone silent, a reply
 * it cannot follow, a request refused before it left. Their codes are in the domain's ErrorCode, so
 * callers match one set of codes whether a failure came from the client or from a node (which
 * arrives as the domain's `RequestFailedError`).
 */
import { ErrorCode, RequestFailedError, SwitchyardError } from '../domain/index.js';
import type { ReplyError } from '../transport/index.js';

/** The subset of the domain's codes that the client raises itself. */
export const ClientErrorCode = {
  /** No router node subscribes to the use case's request subject (NATS "no responders"). */
  RouterUnavailable: ErrorCode.RouterUnavailable,
  /** The node holding the request went silent (no keepalive) and a retry could not help. */
  RouterTimeout: ErrorCode.RouterTimeout,
  /** A reply that does not parse, breaks the sequence, or does not fit the request. */
  RouterProtocol: ErrorCode.RouterProtocol,
  /** The request or its options are invalid (from the client, nothing was sent; from a node, it refused it). */
  InvalidRequest: ErrorCode.InvalidRequest,
  /** The client's NATS account may not publish on this use case's request subject. */
  NotPermitted: ErrorCode.NotPermitted,
} as const;
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

const HINTS: Record<ClientErrorCode, string> = {
  router_unavailable:
    'Start a router node serving this use case with `switchyard start` (or `switchyard dev` on a laptop), and check that client and node use the same NATS servers and subject prefix.',
  router_timeout:
    'The router node holding the request stopped answering (it may have died or lost its NATS link); retry the request, and check `switchyard status`.',
  router_protocol:
    'The router node sent a reply this client cannot follow; check that the client library and the router nodes run the same Switchyard version.',
  invalid_request: 'Fix the field named in `field` and send the request again; nothing was sent to a vendor.',
  not_permitted:
    "This application's NATS account may not speak as that use case; send on the use case it is permitted, or ask the operator to grant it (docs/deployment.md).",
};

export interface ClientErrorDetails {
  retryable?: boolean;
  /** The offending field, for invalid requests. */
  field?: string | undefined;
  /** Text a stream delivered before it failed. */
  delivered?: string | undefined;
  cause?: unknown;
}

export class ClientError extends SwitchyardError {
  readonly code: ClientErrorCode;
  readonly retryable: boolean;
  readonly field: string | undefined;
  readonly delivered: string | undefined;

  constructor(code: ClientErrorCode, message: string, details: ClientErrorDetails = {}) {
    super(message, HINTS[code], details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.retryable = details.retryable ?? (code === 'router_unavailable' || code === 'router_timeout');
    this.field = details.field;
    this.delivered = details.delivered;
  }
}

const CLIENT_CODES = new Set<string>(Object.values(ClientErrorCode));
const isClientCode = (code: string): code is ClientErrorCode => CLIENT_CODES.has(code);

/**
 * The typed error for an error a router node replied with. The client's own codes become a
 * ClientError, which keeps the `field` a node names for an invalid request; the rest a RequestFailedError.
 */
export function errorFromReply(error: ReplyError, delivered?: string): SwitchyardError {
  const carried = error.delivered ?? delivered;
  if (isClientCode(error.code)) return new ClientError(error.code, error.message, { retryable: error.retryable, field: error.field, delivered: carried });
  return new RequestFailedError({ ...error, delivered: carried });
}

export function cancelledError(delivered: string | undefined, reason?: unknown): RequestFailedError {
  const why = typeof reason === 'string' ? `: ${reason}` : reason instanceof Error && reason.name !== 'AbortError' ? `: ${reason.message}` : '';
  return new RequestFailedError({ code: ErrorCode.Cancelled, message: `the request was cancelled by its caller${why}`, retryable: false, delivered });
}

export function deadlineError(deadlineMs: number, delivered: string | undefined): RequestFailedError {
  return new RequestFailedError({ code: ErrorCode.DeadlineExceeded, message: `no answer within the deadline of ${deadlineMs} ms`, retryable: true, delivered });
}

/** The node holding a request said nothing for the idle timeout. */
export function silenceError(requestId: string, idleTimeoutMs: number, delivered: string | undefined): ClientError {
  const message =
    delivered !== undefined
      ? `the router node went silent for ${idleTimeoutMs} ms after the answer had begun (request ${requestId})`
      : `the router node went silent for ${idleTimeoutMs} ms, on the first try and again on the retry (request ${requestId})`;
  return new ClientError('router_timeout', message, { delivered, retryable: true });
}

/** A plain reply to a stream request, or the other way round. */
export function mismatch(requestId: string, what: string): ClientError {
  return new ClientError('router_protocol', `request ${requestId}: the router node sent ${what}`, { retryable: false });
}
