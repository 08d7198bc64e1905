/**
 * The HTTP leg every adapter shares: one undici Agent (a keep-alive pool per origin) injected by the
 * caller, the caller's signal and deadline turned into one abort, the two timeouts that make
 * failover fast (first byte, idle between chunks), and transport failures classified.
 */
import { Agent, request, type Dispatcher } from 'undici';
import { cancelledCall, transportFailure, type FailureSource } from './classify.js';
import { capacityHints, type Headers } from './headers.js';
import { CallTimer } from './metrics.js';
import type { CallOptions } from './types.js';
import { ErrorCode, VendorError } from '../domain/index.js';

/** Defaults far below undici's 300 s: a vendor that has not answered in time is failed over. */
export const DEFAULT_FIRST_BYTE_TIMEOUT_MS = 30_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

export function createVendorDispatcher(options: { connectionsPerOrigin?: number; keepAliveTimeoutMs?: number } = {}): Agent {
  return new Agent({
    connections: options.connectionsPerOrigin ?? 256,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
    keepAliveMaxTimeout: 600_000,
  });
}

export interface VendorHttpRequest {
  url: string;
  method?: 'POST' | 'GET';
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

export interface VendorHttpResponse {
  statusCode: number;
  headers: Headers;
  body: Dispatcher.ResponseData['body'];
  timer: CallTimer;
  /** Aborts the upstream request and destroys the body; safe to call twice. */
  abort(): void;
  /** Releases the timers tied to the call's deadline; call when the call is over. */
  release(): void;
  /** Classifies an error met while reading the body (cut, idle timeout, caller abort, deadline). */
  bodyFailure(error: unknown): VendorError;
}

/**
 * Sends one request. Resolves with the response (any status) once headers arrive; rejects only
 * with a VendorError. The caller must consume or destroy the body.
 */
export async function sendVendorRequest(
  source: FailureSource,
  dispatcher: Dispatcher,
  options: CallOptions,
  req: VendorHttpRequest,
  now: () => number,
): Promise<VendorHttpResponse> {
  const timer = new CallTimer(now);
  const controller = new AbortController();
  const remaining = options.deadline === undefined ? Infinity : options.deadline - now();
  if (remaining <= 0) throw deadlinePassed(source);
  const onCallerAbort = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) throw cancelledCall(source);
  options.signal?.addEventListener('abort', onCallerAbort, { once: true });
  let deadlineHit = false;
  const deadlineTimer = Number.isFinite(remaining)
    ? setTimeout(() => {
        deadlineHit = true;
        controller.abort();
      }, remaining)
    : undefined;
  const state = () => ({ callerAborted: options.signal?.aborted ?? false, deadlineHit });
  const release = () => {
    clearTimeout(deadlineTimer);
    options.signal?.removeEventListener('abort', onCallerAbort);
  };

  try {
    const response = await request(req.url, {
      dispatcher,
      method: req.method ?? 'POST',
      headers: req.headers,
      body: req.body,
      signal: controller.signal,
      headersTimeout: Math.min(options.firstByteTimeoutMs ?? DEFAULT_FIRST_BYTE_TIMEOUT_MS, remaining),
      bodyTimeout: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    });
    timer.firstByte(capacityHints(response.headers, Date.now()));
    return {
      statusCode: response.statusCode,
      headers: response.headers,
      body: response.body,
      timer,
      abort: () => {
        controller.abort();
        response.body.destroy();
      },
      release,
      bodyFailure: (error) => whyItFailed(source, error, 'body', state()),
    };
  } catch (error) {
    release();
    throw whyItFailed(source, error, 'headers', state());
  }
}

/** Classifies a failure while waiting for headers or reading the body. */
export function whyItFailed(
  source: FailureSource,
  error: unknown,
  phase: 'headers' | 'body',
  state: { callerAborted: boolean; deadlineHit: boolean },
): VendorError {
  // The caller's own abort explains whatever failed after it, even a cut stream.
  if (state.callerAborted) return cancelledCall(source);
  if (state.deadlineHit) return deadlinePassed(source);
  if (error instanceof VendorError) return error;
  return transportFailure(source, error, phase);
}

function deadlinePassed(source: FailureSource): VendorError {
  return new VendorError('the call deadline passed', {
    vendor: source.vendor,
    vendorRegion: source.vendorRegion,
    code: ErrorCode.VendorTimeout,
    failureClass: 'fault',
    scope: 'deployment',
    retryable: false,
    persistent: false,
  });
}

/** Reads at most `limit` bytes of an error body, then drops the rest so the socket is released. */
export async function readBodyText(body: Dispatcher.ResponseData['body'], limit = 64 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const buffer = chunk as Buffer;
      chunks.push(buffer);
      size += buffer.length;
      if (size >= limit) break;
    }
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, limit);
}
