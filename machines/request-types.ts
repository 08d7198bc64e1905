/**
 * The request machine's vocabulary (request.machine.ts): what it is given, what its actors are
 * given and send back, what it emits and what it ends with. Types only; actors/ and the
 * machine's tests import them through request.machine.ts.
 */
import type { CanonicalRequest, ErrorCode, Failure, FailureClass, StreamEvent, Usage } from '../src/domain/index.js';

export interface CandidateChoice {
  deployment: string;
  model: string;
  vendorRegion: string;
  /** Whether a stream cut there can resume elsewhere with an assistant prefill. */
  prefill: boolean;
  /** Recent p95 time to first token there; a hedge starts after it. */
  p95TtftMs?: number | undefined;
  /** The capacity reservation admission made for this attempt; an attempt without one is admitted as it starts. */
  reservation?: string | undefined;
  /** A hedge: a second attempt, which goes out only while the hedge budget allows. */
  hedge?: boolean | undefined;
}

export interface ChooseInput {
  request: CanonicalRequest;
  tried: string[];
  /** A retry costs from the retry budget; the first attempt does not. */
  retry: boolean;
  /** Resuming a cut stream: only deployments that take a prefill of the same model family. */
  resume: boolean;
  /** The request's `scope`, handed on untouched. */
  scope?: unknown;
}

export type ChooseOutput =
  | { kind: 'candidate'; candidate: CandidateChoice; hedge?: CandidateChoice | undefined }
  | { kind: 'none'; reason: 'no_route' | 'exhausted' | 'retry_budget' }
  /** Every candidate lacked capacity (or this tenant had used its share) and waiting did not help. */
  | { kind: 'none'; reason: 'capacity'; message: string; retryAfterMs: number }
  /** This node had no room for the request where a peer had: the caller sends it again (nothing has been sent to a vendor). */
  | { kind: 'none'; reason: 'handed_back'; /** A peer with room, by node id, where this node knows one. */ peer?: string | undefined };

export interface AttemptInput {
  attemptId: string;
  candidate: CandidateChoice;
  request: CanonicalRequest;
  /** The request's `scope`, handed on untouched. */
  scope?: unknown;
}

/** A failed attempt, as plain data (the VendorError's classification). */
export interface AttemptError {
  code: ErrorCode;
  message: string;
  failureClass: FailureClass;
  retryable: boolean;
  retryAfterMs?: number | undefined;
  /** The offending field, when the request itself was at fault. */
  field?: string | undefined;
}

export type AttemptEvent =
  /**
   * `usage`: what the vendor reported since the attempt's last event, folded into this one by the
   * attempt (a `usage` event of its own is one more event through the machine per request).
   */
  | { type: 'attempt.event'; attemptId: string; event: StreamEvent; usage?: Partial<Usage> | undefined }
  | { type: 'attempt.failed'; attemptId: string; error: AttemptError };

/** `deadline.passed` and `hedge.due` are the machine's own timers, raised to itself. */
export type RequestEvent = AttemptEvent | { type: 'cancel' } | { type: 'deadline.passed' } | { type: 'hedge.due' };

/** How the request failed: the domain's one failure shape (`delivered` is what the caller already had). */
export type RequestFailure = Failure;

export interface RequestOutput {
  ok: boolean;
  /** Every deployment an attempt went to, in order; the last one served the answer when ok. */
  attempts: { deployment: string; model: string }[];
  servedBy?: { deployment: string; model: string } | undefined;
  resumed: number;
  failure?: RequestFailure | undefined;
}

/** What the caller sees (`out`) and what health tracking needs to hear about abandoned attempts. */
export type RequestEmitted =
  /** `servedBy` rides on the `start`: who began the answer, so a front door can name it before the end. */
  | { type: 'out'; event: StreamEvent; servedBy?: { deployment: string; model: string; attempts: number } }
  | { type: 'abandoned'; deployment: string; reason: 'ttft_timeout' | 'hedge_lost' | 'cancelled' };

export interface RequestInput {
  request: CanonicalRequest;
  /** Time to first token allowed to each attempt before it is abandoned for the next. */
  ttftLimitMs: number;
  /** The caller's overall deadline, relative to the start. */
  deadlineMs?: number | undefined;
  hedging?: boolean;
  /** A hedge starts this long after the first attempt; default: that deployment's recent p95 time to first token. */
  hedgeAfterMs?: number | undefined;
  maxAttempts?: number;
  /** Mid-stream resumptions allowed (docs/design.md, A2: one). */
  maxResumes?: number;
  /**
   * The first choice, where whoever starts the request could make it at once (actors/ admits most
   * requests without waiting): the machine starts from it instead of invoking `choose`, which
   * saves an actor and an event per request. Retries and resumptions still invoke `choose`.
   */
  chosen?: ChooseOutput | undefined;
  /**
   * Opaque to the machine: what the provided actors need to do their work (actors/ puts the fleet,
   * budgets and tenant here), handed to each as it starts. Through the input, one machine serves
   * every request, instead of a machine built per request to close over it.
   */
  scope?: unknown;
}

export interface Attempt {
  id: string;
  candidate: CandidateChoice;
}

/** What the request was started with and never changes. */
export interface RequestLimits {
  ttftLimitMs: number;
  deadlineMs: number | undefined;
  hedging: boolean;
  hedgeAfterMs: number | undefined;
  maxAttempts: number;
  maxResumes: number;
}

/**
 * Kept under about 18 keys on purpose: xstate copies the context with `Object.assign` on every
 * assign, and V8 makes a copy with more keys a dictionary (slow to read, larger to hold), which
 * every guard and action of every request then pays for. The fixed limits ride in one key.
 */
export interface RequestContext {
  request: CanonicalRequest;
  limits: RequestLimits;
  scope: unknown;
  chosen: ChooseOutput | undefined;
  attempts: Attempt[];
  live: Attempt[];
  winner: Attempt | undefined;
  hedge: CandidateChoice | undefined;
  tried: string[];
  started: boolean;
  delivered: string;
  deliveredToolCall: boolean;
  usage: Partial<Usage>;
  resuming: boolean;
  resumed: number;
  lastError: AttemptError | undefined;
  failure: RequestFailure | undefined;
}
