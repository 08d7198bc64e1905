/**
 * The one interface every vendor adapter implements, and what each call reports back for routing.
 * An adapter takes canonical requests, speaks its vendor's wire protocol over an injected undici
 * dispatcher, and throws only VendorErrors, classified by the error policy.
 */
import type { Dispatcher } from 'undici';
import type { CanonicalRequest, CanonicalResponse, StreamEvent, Usage } from '../domain/index.js';
import type { Deployment, VendorRegion } from '../config/index.js';

export interface CallOptions {
  /** The deployment to call: its vendor model id and logical model. */
  deployment: Deployment;
  /** Aborting closes the upstream request at once. */
  signal?: AbortSignal | undefined;
  /** Absolute deadline (epoch ms) for the whole call, stream included. */
  deadline?: number | undefined;
  /** Longest wait for the response headers; the first failover trigger. */
  firstByteTimeoutMs?: number | undefined;
  /** Longest wait between two chunks of a stream. */
  idleTimeoutMs?: number | undefined;
}

/** What the vendor's rate-limit headers said, for the capacity loop. */
export interface CapacityHints {
  requestsLimit?: number;
  requestsRemaining?: number;
  /** Milliseconds until the request window resets. */
  requestsResetMs?: number;
  tokensLimit?: number;
  tokensRemaining?: number;
  tokensResetMs?: number;
}

/** What routing needs from each call. Times are measured from sending the request. */
export interface CallMetrics {
  timeToFirstByteMs?: number;
  /** Until the first text or tool-call fragment: what a streaming caller waits for. */
  timeToFirstTokenMs?: number;
  durationMs?: number;
  /** Output tokens per second after the first token; undefined when too few tokens to tell. */
  tokensPerSecond?: number;
  usage?: Usage;
  capacity: CapacityHints;
}

export interface Completion {
  response: CanonicalResponse;
  metrics: CallMetrics;
}

/**
 * A stream that has answered 200. Iterating yields canonical events ending in exactly one `end`;
 * any failure after the headers (an in-stream error, a cut, a malformed chunk) is thrown by the
 * iterator as a VendorError. Breaking out of the loop, `cancel()` or the call's signal close the
 * upstream connection.
 */
export interface VendorStream extends AsyncIterable<StreamEvent> {
  /** Metrics so far; final once iteration has ended. */
  readonly metrics: CallMetrics;
  cancel(): void;
}

export interface VendorAdapter {
  readonly vendorRegion: VendorRegion;
  complete(request: CanonicalRequest, options: CallOptions): Promise<Completion>;
  /** Resolves when the vendor has answered 200; failures before that reject with a VendorError. */
  stream(request: CanonicalRequest, options: CallOptions): Promise<VendorStream>;
}

/** Reads a secret from where the config says it lives; supplied by the composition root. */
export type SecretResolver = (source: { env: string } | { file: string }) => Promise<string>;

export interface AdapterDeps {
  dispatcher: Dispatcher;
  secrets: SecretResolver;
  /** Clock for metrics; injectable for tests. */
  now?: () => number;
}

export type AdapterFactory = (vendorRegion: VendorRegion, deps: AdapterDeps) => VendorAdapter;
