/**
 * What the gateway answers when it cannot give an answer, before it is written in an API's own
 * shape: an HTTP status, a kind both APIs have a word for, and a message that says what to do.
 * Switchyard's error codes map onto statuses here once, for both APIs, so an OpenAI caller and an
 * Anthropic caller see the same failure as the same status.
 */
import { ErrorCode, SwitchyardError, type Failure } from '../domain/index.js';

export type ProblemKind =
  | 'invalid_request'
  | 'authentication'
  | 'permission'
  | 'not_found'
  | 'too_large'
  | 'rate_limited'
  | 'server'
  | 'overloaded'
  | 'unavailable'
  | 'timeout';

export interface Problem {
  status: number;
  kind: ProblemKind;
  message: string;
  /** The offending field, as the API names it (`messages[0].content`). */
  param?: string | undefined;
  /** A stable code: Switchyard's error code, or the gateway's own (`invalid_api_key`). */
  code: string;
  retryAfterMs?: number | undefined;
  /** False when retrying cannot help (tells the SDKs not to). */
  retryable?: boolean | undefined;
}

const STATUS: Record<ProblemKind, number> = {
  invalid_request: 400,
  authentication: 401,
  permission: 403,
  not_found: 404,
  too_large: 413,
  rate_limited: 429,
  server: 502,
  overloaded: 503,
  unavailable: 503,
  timeout: 504,
};

export function problem(kind: ProblemKind, code: string, message: string, extra: Pick<Problem, 'param' | 'retryAfterMs' | 'retryable'> = {}): Problem {
  return { status: STATUS[kind], kind, code, message, ...extra };
}

/** Which kind each of Switchyard's failures is, seen from an HTTP caller. */
const KIND_OF: Partial<Record<ErrorCode, ProblemKind>> = {
  invalid_request: 'invalid_request',
  vendor_rejected: 'invalid_request',
  vendor_content_filter: 'invalid_request',
  no_route: 'not_found',
  rate_limited: 'rate_limited',
  vendor_rate_limited: 'rate_limited',
  vendor_quota_exhausted: 'rate_limited',
  overloaded: 'overloaded',
  router_draining: 'overloaded',
  retry_budget_exhausted: 'overloaded',
  vendor_overloaded: 'overloaded',
  router_unavailable: 'unavailable',
  vendor_unavailable: 'unavailable',
  deadline_exceeded: 'timeout',
  router_timeout: 'timeout',
  vendor_timeout: 'timeout',
};

/** A retry-after for the kinds that are worth retrying soon and carry no figure of their own. */
const DEFAULT_RETRY_AFTER_MS: Partial<Record<ProblemKind, number>> = { overloaded: 1_000, unavailable: 1_000, rate_limited: 1_000 };

/**
 * The problem a failed request is: from a router node's reply, or the client library's own error.
 * `not_permitted` is the gateway's own NATS account refused, so it is the operator's to fix, a 5xx,
 * not the caller's 403.
 */
export function problemOf(error: unknown): Problem {
  const failure = failureOf(error);
  const kind = KIND_OF[failure.code] ?? 'server';
  const hint = error instanceof SwitchyardError ? ` ${error.hint}` : '';
  return problem(kind, failure.code, `${failure.message.replace(/\.$/, '')}.${hint}`, {
    param: failure.field,
    retryAfterMs: failure.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS[kind],
    retryable: failure.retryable,
  });
}

function failureOf(error: unknown): Pick<Failure, 'code' | 'message' | 'retryAfterMs' | 'field'> & { retryable?: boolean | undefined } {
  if (error instanceof SwitchyardError) {
    const { retryAfterMs, field, retryable } = error as Partial<Failure>;
    return { code: error.code, message: error.message, retryAfterMs, field, retryable };
  }
  return { code: ErrorCode.Internal, message: error instanceof Error ? error.message : String(error) };
}

/** Seconds for a retry-after header: whole seconds, rounded up, at least one. */
export function retryAfterSeconds(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}
