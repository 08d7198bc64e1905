/**
 * The error policy (docs/design.md §3) in one place:
 * every adapter extracts the status and the vendor's own error code, and this decides the class.
 */
import { ErrorCode, VendorError, type VendorErrorDetails, type Vendor } from '../domain/index.js';

export interface FailureSource {
  vendor: Vendor;
  vendorRegion: string;
}

export interface HttpFailure extends FailureSource {
  status: number;
  /** The vendor's error type or code from the body (`rate_limit_error`, `insufficient_quota`, `ThrottlingException`). */
  vendorCode?: string | undefined;
  message?: string | undefined;
  retryAfterMs?: number | undefined;
  excerpt?: string | undefined;
}

/** A wait longer than this is a quota, not a burst: fail over instead of waiting (openai-node and Portkey agree). */
export const LONG_RETRY_AFTER_MS = 60_000;

/** Vendor codes that mean "used up until someone pays or the period ends". */
const QUOTA_CODES = new Set([
  'insufficient_quota',
  'enforced_spend_limit_reached',
  'billing_error',
  'servicequotaexceededexception',
  'quota_exceeded',
]);
const CONTENT_CODES = new Set(['content_filter', 'content_policy_violation', 'responsibleaipolicyviolation']);
const OVERLOAD_CODES = new Set(['overloaded_error', 'serviceunavailableexception', 'modelnotreadyexception']);
const THROTTLE_CODES = new Set(['rate_limit_error', 'rate_limit_exceeded', 'throttlingexception', 'tokens', 'requests', '429']);

function details(source: FailureSource, rest: Omit<VendorErrorDetails, 'vendor' | 'vendorRegion'>): VendorErrorDetails {
  return { vendor: source.vendor, vendorRegion: source.vendorRegion, ...rest };
}

export function classifyHttpFailure(f: HttpFailure): VendorError {
  const code = f.vendorCode?.toLowerCase();
  const base = { status: f.status, vendorCode: f.vendorCode, retryAfterMs: f.retryAfterMs, excerpt: f.excerpt };
  const say = (what: string) => `${what} (HTTP ${f.status}${f.vendorCode ? ` ${f.vendorCode}` : ''})${f.message ? `: ${f.message}` : ''}`;
  const make = (what: string, d: Omit<VendorErrorDetails, 'vendor' | 'vendorRegion' | keyof typeof base>) =>
    new VendorError(say(what), details(f, { ...base, ...d }));

  if ((code && QUOTA_CODES.has(code)) || f.status === 402 || (f.status === 429 && (f.retryAfterMs ?? 0) > LONG_RETRY_AFTER_MS)) {
    return make('quota exhausted', { code: ErrorCode.VendorQuotaExhausted, failureClass: 'quota_exhausted', scope: 'deployment', retryable: true, persistent: true });
  }
  if (code && CONTENT_CODES.has(code)) {
    return make('content filtered', { code: ErrorCode.VendorContentFilter, failureClass: 'caller', scope: 'deployment', retryable: false, persistent: false });
  }
  if (f.status === 529 || (code && OVERLOAD_CODES.has(code))) {
    return make('overloaded', { code: ErrorCode.VendorOverloaded, failureClass: 'fault', scope: 'deployment', retryable: true, persistent: false });
  }
  // 409 is a lock conflict: worth retrying, but it says nothing about the vendor's health.
  if (f.status === 429 || f.status === 409 || (code && THROTTLE_CODES.has(code))) {
    return make('rate limited', { code: ErrorCode.VendorRateLimited, failureClass: 'capacity', scope: 'deployment', retryable: true, persistent: false });
  }
  if (f.status === 401 || f.status === 403) {
    return make('credentials refused', { code: ErrorCode.VendorAuth, failureClass: 'fault', scope: 'vendor_region', retryable: true, persistent: true });
  }
  if (f.status === 404) {
    return make('model or deployment not found', { code: ErrorCode.VendorNotFound, failureClass: 'fault', scope: 'deployment', retryable: true, persistent: true });
  }
  if (f.status === 408 || f.status === 504) {
    return make('timed out', { code: ErrorCode.VendorTimeout, failureClass: 'fault', scope: 'deployment', retryable: true, persistent: false });
  }
  if (f.status >= 500 || f.status === 424) {
    // A gateway-level 502/503 is about the whole endpoint; a 500 or a model error is about one model.
    const scope = f.status === 502 || f.status === 503 ? 'vendor_region' : 'deployment';
    return make('vendor error', { code: ErrorCode.VendorUnavailable, failureClass: 'fault', scope, retryable: true, persistent: false });
  }
  // Vertex: the project may not use this publisher model. A setup fault of this deployment, not the request's.
  if (code === 'failed_precondition') {
    return make('model not enabled for the project', { code: ErrorCode.VendorNotFound, failureClass: 'fault', scope: 'deployment', retryable: true, persistent: true });
  }
  return make('request rejected', { code: ErrorCode.VendorRejected, failureClass: 'caller', scope: 'deployment', retryable: false, persistent: false });
}

/** An error event inside a stream that began with 200: classified by its code, retryable before the first token. */
export function classifyStreamError(source: FailureSource & { vendorCode: string; message: string }): VendorError {
  const code = source.vendorCode.toLowerCase();
  const base = { vendorCode: source.vendorCode, excerpt: source.message.slice(0, 200) };
  if (THROTTLE_CODES.has(code)) {
    return new VendorError(`rate limited mid-stream (${source.vendorCode}): ${source.message}`, details(source, {
      ...base, code: ErrorCode.VendorRateLimited, failureClass: 'capacity', scope: 'deployment', retryable: true, persistent: false,
    }));
  }
  const overloaded = OVERLOAD_CODES.has(code);
  return new VendorError(`${overloaded ? 'overloaded' : 'error'} mid-stream (${source.vendorCode}): ${source.message}`, details(source, {
    ...base,
    code: overloaded ? ErrorCode.VendorOverloaded : ErrorCode.VendorStreamError,
    failureClass: 'fault',
    scope: 'deployment',
    retryable: true,
    persistent: false,
  }));
}

export function truncatedStream(source: FailureSource, what: string): VendorError {
  return new VendorError(`stream ended without ${what}`, details(source, {
    code: ErrorCode.VendorStreamTruncated, failureClass: 'fault', scope: 'deployment', retryable: true, persistent: false,
  }));
}

export function malformedResponse(source: FailureSource, what: string, excerpt: string, cause?: unknown): VendorError {
  return new VendorError(`malformed response: ${what}`, details(source, {
    code: ErrorCode.VendorMalformed, failureClass: 'fault', scope: 'deployment', retryable: true, persistent: false, excerpt: excerpt.slice(0, 200),
  }), { cause });
}

export function cancelledCall(source: FailureSource): VendorError {
  return new VendorError('call cancelled by the caller', details(source, {
    code: ErrorCode.Cancelled, failureClass: 'caller', scope: 'deployment', retryable: false, persistent: false,
  }));
}

/** Failures below HTTP: refused, reset, DNS, TLS, or no bytes in time. */
export function transportFailure(source: FailureSource, error: unknown, phase: 'headers' | 'body'): VendorError {
  const code = (error as { code?: unknown } | null)?.code;
  const text = error instanceof Error ? error.message : String(error);
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT') {
    const what = phase === 'headers' ? 'no response headers in time' : 'no next chunk in time';
    return new VendorError(what, details(source, {
      code: ErrorCode.VendorTimeout, failureClass: 'fault', scope: phase === 'headers' && code === 'UND_ERR_CONNECT_TIMEOUT' ? 'vendor_region' : 'deployment',
      retryable: true, persistent: false, vendorCode: String(code),
    }), { cause: error });
  }
  // A cut mid-body is the stream's fault; a refused or reset connection before any answer is the endpoint's.
  const scope = phase === 'headers' ? 'vendor_region' : 'deployment';
  const errorCode = phase === 'headers' ? ErrorCode.VendorConnection : ErrorCode.VendorStreamTruncated;
  return new VendorError(`connection failed: ${text}`, details(source, {
    code: errorCode, failureClass: 'fault', scope, retryable: true, persistent: false, vendorCode: typeof code === 'string' ? code : undefined,
  }), { cause: error });
}
