/**
 * The HTTP leg every adapter shares: one undici Agent (a keep-alive pool per origin) injected by the
 * caller, each call on its dispatch API (vendor-call.ts), the caller's signal and deadline turned
 * into one abort, the two timeouts that make failover fast (first byte, idle between chunks), and
 * transport failures classified.
 */
import { Agent, Pool, type Dispatcher } from 'undici';
import { cancelledCall, transportFailure, type FailureSource } from './classify.js';
import { capacityHints, type Headers } from './headers.js';
import { CallTimer } from './metrics.js';
import { VendorCall } from './vendor-call.js';
import type { CallOptions } from './types.js';
import { ErrorCode, VendorError } from '../domain/index.js';

/**
 * The reason every call we stop ourselves is aborted with. Made once: an abort without a reason
 * makes a DOMException and formats its stack each time, and every attempt ends with one, even a
 * successful one (about 3 % of a saturated node's CPU).
 */
export const STOPPED = new DOMException('stopped by Switchyard: the answer is complete or no longer wanted', 'AbortError');

/** Defaults far below undici's 300 s: a vendor that has not answered in time is failed over. */
export const DEFAULT_FIRST_BYTE_TIMEOUT_MS = 30_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

/** What `finish` reads of a body after its answer ended before it gives the connection up. */
const FINISH_LIMIT_BYTES = 16 * 1024;

/** Connections to an origin no deployment's quota speaks for. */
export const DEFAULT_CONNECTIONS_PER_ORIGIN = 256;

export interface VendorDispatcherOptions {
  /** Connections an origin may hold at once; origins missing here get `connectionsPerOrigin`. */
  connectionsByOrigin?: ReadonlyMap<string, number>;
  connectionsPerOrigin?: number;
  keepAliveTimeoutMs?: number;
}

/**
 * The Agent every vendor call goes through, with a pool per origin. A stream holds its connection
 * for as long as it lasts, so a pool smaller than what its deployments may carry at once makes
 * requests queue here, inside our own process, until they hit the time-to-first-token limit and
 * are blamed on a vendor that never saw them (1,000 held streams once lost 400 that way).
 */
export function createVendorDispatcher(options: VendorDispatcherOptions = {}): Agent {
  const fallback = options.connectionsPerOrigin ?? DEFAULT_CONNECTIONS_PER_ORIGIN;
  return new Agent({
    connections: fallback,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
    keepAliveMaxTimeout: 600_000,
    factory: (origin, poolOptions) => new Pool(origin, { ...poolOptions, connections: options.connectionsByOrigin?.get(new URL(String(origin)).origin) ?? fallback }),
  });
}

/**
 * What each origin must carry at once: the concurrency quotas of every deployment served there,
 * summed (two vendor-regions may share an origin), and never fewer than the default.
 */
export function connectionsByOrigin(vendorRegions: Iterable<{ baseUrl: string; deployments: Record<string, { quota: { concurrency: number } }> }>): Map<string, number> {
  const byOrigin = new Map<string, number>();
  for (const vendorRegion of vendorRegions) {
    const origin = new URL(vendorRegion.baseUrl).origin;
    const quota = Object.values(vendorRegion.deployments).reduce((sum, d) => sum + d.quota.concurrency, 0);
    byOrigin.set(origin, (byOrigin.get(origin) ?? 0) + quota);
  }
  for (const [origin, n] of byOrigin) byOrigin.set(origin, Math.max(n, DEFAULT_CONNECTIONS_PER_ORIGIN));
  return byOrigin;
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
  timer: CallTimer;
  /** The body's chunks, each awaited under the idle limit; read a stream with this. */
  chunks(): AsyncGenerator<Buffer>;
  /** The whole body as text, at most `limit` bytes of it (the rest is dropped and the call stopped). */
  text(limit?: number): Promise<string>;
  /** Aborts the upstream request and drops the body; safe to call twice. */
  abort(): void;
  /**
   * Lets what is left of a body whose answer is complete (a `[DONE]`, the chunked terminator)
   * arrive unread, so the keep-alive connection serves the next call. Dropping it unread cost
   * the connection (a TLS handshake per request, against a real vendor) and, with undici's
   * Readable, a RequestAbortedError and its stack per stream (2 % of a node's CPU).
   */
  finish(): void;
  /** Releases the timers tied to the call; call when the call is over. */
  release(): void;
  /** Classifies an error met while reading the body (cut, idle timeout, caller abort, deadline). */
  bodyFailure(error: unknown): VendorError;
}

type Timeout = 'first_byte' | 'idle' | 'deadline';

interface CallState {
  callerAborted: boolean;
  timedOut: Timeout | undefined;
}

/** What stops a call on one of our timers; whyItFailed names the timer from the call's state. */
const TIMED_OUT = new DOMException('a vendor call limit passed', 'AbortError');

/**
 * Sends one request. Resolves with the response (any status) once headers arrive; rejects only
 * with a VendorError. The caller must read the body, finish it or abort it.
 *
 * The first-byte, idle and deadline limits run on our own timers: undici checks its timeouts on
 * a coarse one-second clock, and failover at a sub-second time-to-first-token limit needs better.
 */
export async function sendVendorRequest(
  source: FailureSource,
  dispatcher: Dispatcher,
  options: CallOptions,
  req: VendorHttpRequest,
  now: () => number,
): Promise<VendorHttpResponse> {
  const timer = new CallTimer(now);
  const remaining = options.deadline === undefined ? Infinity : options.deadline - Date.now();
  if (remaining <= 0) throw deadlinePassed(source);
  if (options.signal?.aborted) throw cancelledCall(source);
  const state: CallState = { callerAborted: false, timedOut: undefined };
  let call: VendorCall;
  try {
    const url = new URL(req.url);
    call = new VendorCall(dispatcher, {
      origin: url.origin,
      path: url.pathname + url.search,
      method: req.method ?? 'POST',
      headers: req.headers,
      body: req.body ?? null,
      // Backstops only; our own timers below decide.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  } catch (error) {
    // Rejects only with a VendorError, even for a URL no request could be sent to.
    throw whyItFailed(source, error, 'headers', state);
  }
  const onCallerAbort = () => {
    state.callerAborted = true;
    // whyItFailed names the cause from the state; the caller's own reason is not needed for it.
    call.abort(STOPPED);
  };
  options.signal?.addEventListener('abort', onCallerAbort, { once: true });
  const expire = (why: Timeout) => () => {
    state.timedOut ??= why;
    call.abort(TIMED_OUT);
  };
  const deadlineTimer = Number.isFinite(remaining) ? setTimeout(expire('deadline'), remaining) : undefined;
  const firstByteTimer = setTimeout(expire('first_byte'), options.firstByteTimeoutMs ?? DEFAULT_FIRST_BYTE_TIMEOUT_MS);
  const release = () => {
    clearTimeout(deadlineTimer);
    clearTimeout(firstByteTimer);
    options.signal?.removeEventListener('abort', onCallerAbort);
  };

  try {
    const head = await call.head;
    clearTimeout(firstByteTimer);
    timer.firstByte(capacityHints(head.headers, Date.now()));
    const idleMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    const abort = () => call.abort(STOPPED);
    const next = async () => {
      const idle = setTimeout(expire('idle'), idleMs);
      try {
        return await call.next();
      } finally {
        clearTimeout(idle);
      }
    };
    return {
      statusCode: head.statusCode,
      headers: head.headers,
      timer,
      async *chunks() {
        for (let chunk = await next(); chunk !== undefined; chunk = await next()) yield chunk;
      },
      async text(limit = 64 * 1024) {
        const chunks: Buffer[] = [];
        let size = 0;
        while (size < limit) {
          const chunk = await next();
          if (chunk === undefined) break;
          chunks.push(chunk);
          size += chunk.length;
        }
        if (!call.complete) abort();
        return Buffer.concat(chunks).toString('utf8').slice(0, limit);
      },
      abort,
      finish: () => {
        if (call.complete) return;
        // A vendor that keeps talking after its answer ended is cut off, as is one that stalls.
        const limit = setTimeout(abort, idleMs);
        call.discard(FINISH_LIMIT_BYTES, abort);
        void call
          .next()
          .catch(() => undefined)
          .finally(() => clearTimeout(limit));
      },
      release,
      bodyFailure: (error) => whyItFailed(source, error, 'body', state),
    };
  } catch (error) {
    release();
    throw whyItFailed(source, error, 'headers', state);
  }
}

/** Classifies a failure while waiting for headers or reading the body. */
export function whyItFailed(source: FailureSource, error: unknown, phase: 'headers' | 'body', state: CallState): VendorError {
  // The caller's own abort explains whatever failed after it, even a cut stream.
  if (state.callerAborted) return cancelledCall(source);
  if (state.timedOut === 'deadline') return deadlinePassed(source);
  if (state.timedOut === 'first_byte') return timedOut(source, 'no response headers in time');
  if (state.timedOut === 'idle') return timedOut(source, 'no next chunk in time');
  if (error instanceof VendorError) return error;
  return transportFailure(source, error, phase);
}

function timedOut(source: FailureSource, what: string): VendorError {
  return new VendorError(what, {
    vendor: source.vendor,
    vendorRegion: source.vendorRegion,
    code: ErrorCode.VendorTimeout,
    failureClass: 'fault',
    scope: 'deployment',
    retryable: true,
    persistent: false,
  });
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
