/**
 * One request, from choice to its one terminal event: choose (or start from a choice already made)
 * → connect (admitted, waiting for the first token) → stream → done or failed. Pure: the vendor call, the choice of deployment and the
 * clock are provided by actors/, so every path here runs under a simulated clock in tests.
 *
 * Before the first delivered token, a failure fails over to the next candidate without the caller
 * noticing. After it, a stream on a deployment that takes an assistant prefill resumes elsewhere
 * with the delivered text as prefill, so the caller gets the continuation with nothing repeated
 * and nothing lost; anywhere else the request ends in one `stream_interrupted` error carrying what
 * was delivered. Attempts run as spawned children so a hedge can race the first one; every child
 * is stopped before the request ends.
 */
import { assign, emit, enqueueActions, fromCallback, fromPromise, setup, type AnyEventObject } from 'xstate';
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
  | { type: 'attempt.event'; attemptId: string; event: StreamEvent }
  | { type: 'attempt.failed'; attemptId: string; error: AttemptError };

export type RequestEvent = AttemptEvent | { type: 'cancel' };

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

interface Attempt {
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

/** The request as sent to a resumed attempt: the delivered text continues as an assistant prefill. */
export function withPrefill(request: CanonicalRequest, delivered: string): CanonicalRequest {
  return { ...request, messages: [...request.messages, { role: 'assistant', content: [{ type: 'text', text: delivered }] }] };
}

const isAttempt = (event: AnyEventObject): event is AttemptEvent => event.type === 'attempt.event' || event.type === 'attempt.failed';

export const requestMachine = setup({
  types: {
    context: {} as RequestContext,
    events: {} as RequestEvent,
    input: {} as RequestInput,
    output: {} as RequestOutput,
    emitted: {} as RequestEmitted,
  },
  actors: {
    // Provided by actors/: the real ones consult the fleet and call the vendors.
    choose: fromPromise<ChooseOutput, ChooseInput>(() => Promise.reject(new Error('choose: not provided'))),
    attempt: fromCallback<AnyEventObject, AttemptInput>(() => {
      throw new Error('attempt: not provided');
    }),
  },
  delays: {
    ttftLimit: ({ context }) => context.limits.ttftLimitMs,
    hedgeDelay: ({ context }) => context.limits.hedgeAfterMs ?? context.live[0]?.candidate.p95TtftMs ?? context.limits.ttftLimitMs,
    deadline: ({ context }) => context.limits.deadlineMs ?? 2 ** 31 - 1,
  },
  guards: {
    fromLive: ({ context, event }) => isAttempt(event) && context.live.some((a) => a.id === event.attemptId),
    fromWinner: ({ context, event }) => isAttempt(event) && context.winner?.id === event.attemptId,
    isDelta: ({ event }) => event.type === 'attempt.event' && event.event.type === 'delta',
    isEnd: ({ event }) => event.type === 'attempt.event' && event.event.type === 'end',
    othersStillRunning: ({ context, event }) => isAttempt(event) && context.live.some((a) => a.id !== event.attemptId),
    canRetry: ({ context, event }) =>
      event.type === 'attempt.failed' && event.error.retryable && context.attempts.length < context.limits.maxAttempts,
    canRetryAfterTimeout: ({ context }) => context.attempts.length < context.limits.maxAttempts,
    canResume: ({ context, event }) =>
      event.type === 'attempt.failed' &&
      event.error.failureClass !== 'caller' &&
      context.winner?.candidate.prefill === true &&
      !context.deliveredToolCall &&
      context.delivered.length > 0 &&
      context.resumed < context.limits.maxResumes &&
      context.attempts.length < context.limits.maxAttempts,
    canHedge: ({ context }) => context.limits.hedging && context.hedge !== undefined && context.live.length === 1 && !context.resuming,
    hasDeadline: ({ context }) => context.limits.deadlineMs !== undefined,
  },
  actions: {
    takeCandidate: assign(({ context }, output: ChooseOutput) => {
      if (output.kind !== 'candidate') return {};
      const attempt = { id: `attempt-${context.attempts.length + 1}`, candidate: output.candidate };
      return { attempts: [...context.attempts, attempt], live: [attempt], winner: undefined, hedge: output.hedge };
    }),
    spawnLatest: enqueueActions(({ context, enqueue }) => {
      const attempt = context.live.at(-1);
      if (!attempt) return;
      const request = context.resuming ? withPrefill(context.request, context.delivered) : context.request;
      enqueue.spawnChild('attempt', { id: attempt.id, input: { attemptId: attempt.id, candidate: attempt.candidate, request, scope: context.scope } });
    }),
    startHedge: enqueueActions(({ context, enqueue }) => {
      if (!context.hedge) return;
      const attempt = { id: `attempt-${context.attempts.length + 1}`, candidate: context.hedge };
      enqueue.assign({ attempts: [...context.attempts, attempt], live: [...context.live, attempt], hedge: undefined });
      enqueue.spawnChild('attempt', { id: attempt.id, input: { attemptId: attempt.id, candidate: attempt.candidate, request: context.request, scope: context.scope } });
    }),
    /** The first attempt to deliver a token wins; the others are cancelled at once. */
    crownWinner: enqueueActions(({ context, event, enqueue }) => {
      if (!isAttempt(event)) return;
      const winner = context.live.find((a) => a.id === event.attemptId);
      for (const loser of context.live.filter((a) => a.id !== event.attemptId)) {
        enqueue.stopChild(loser.id);
        enqueue.emit({ type: 'abandoned', deployment: loser.candidate.deployment, reason: 'hedge_lost' });
      }
      enqueue.assign({ winner, live: winner ? [winner] : [], resuming: false });
    }),
    /** Abandons every live attempt (time-to-first-token limit, cancellation): each is stopped and reported. */
    abandonLive: enqueueActions(({ context, enqueue }, params: { reason: 'ttft_timeout' | 'cancelled' }) => {
      for (const attempt of context.live) {
        enqueue.stopChild(attempt.id);
        enqueue.emit({ type: 'abandoned', deployment: attempt.candidate.deployment, reason: params.reason });
      }
      enqueue.assign({ tried: [...context.tried, ...context.live.map((a) => a.candidate.deployment)], live: [] });
    }),
    stopAll: enqueueActions(({ context, enqueue }) => {
      for (const attempt of context.live) enqueue.stopChild(attempt.id);
      enqueue.assign({ live: [] });
    }),
    dropFailed: assign(({ context, event }) => {
      if (event.type !== 'attempt.failed') return {};
      const failed = context.live.find((a) => a.id === event.attemptId);
      return {
        live: context.live.filter((a) => a.id !== event.attemptId),
        tried: failed ? [...context.tried, failed.candidate.deployment] : context.tried,
        lastError: event.error,
      };
    }),
    beginResume: assign(({ context }) => ({ resuming: true, resumed: context.resumed + 1, winner: undefined })),
    forward: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'attempt.event') return;
      const e = event.event;
      if (e.type === 'start' || e.type === 'usage') {
        if (e.type === 'usage') enqueue.assign({ usage: { ...context.usage, ...e.usage } });
        return;
      }
      if (e.type === 'end') {
        if (!context.started) enqueue.emit(startOut(context));
        if (context.usage.inputTokens !== undefined || context.usage.outputTokens !== undefined) {
          enqueue.emit({ type: 'out', event: { type: 'usage', usage: context.usage } });
        }
        enqueue.emit({ type: 'out', event: e });
        enqueue.assign({ started: true });
        return;
      }
      if (e.type === 'delta') {
        if (!context.started) enqueue.emit(startOut(context));
        enqueue.emit({ type: 'out', event: e });
        enqueue.assign({
          started: true,
          delivered: e.delta.type === 'text' ? context.delivered + e.delta.text : context.delivered,
          deliveredToolCall: context.deliveredToolCall || e.delta.type === 'tool_call',
        });
      }
    }),
    failWith: assign(({ context }, params: { code: ErrorCode; message: string; retryable?: boolean }) => ({
      failure: { code: params.code, message: params.message, retryable: params.retryable ?? false, delivered: context.started ? context.delivered : undefined },
    })),
    failFromLast: assign(({ context }) => ({
      failure: context.lastError ? failureOf(context.lastError) : { code: 'all_deployments_failed', message: 'every candidate deployment failed', retryable: true },
    })),
    failInterrupted: assign(({ context }) => ({
      failure: {
        code: 'stream_interrupted',
        message: `the stream broke after delivery began and could not resume (${context.lastError?.code ?? 'unknown'})`,
        retryable: false,
        delivered: context.delivered,
      },
    })),
    failNoCandidate: assign(({ context }, output: ChooseOutput) => {
      if (output.kind === 'none' && output.reason === 'capacity') {
        return { failure: { code: 'rate_limited', message: output.message, retryable: true, retryAfterMs: output.retryAfterMs } };
      }
      if (output.kind === 'none' && output.reason === 'handed_back') {
        return { failure: { code: 'handed_back', message: 'this router node has no room for the request and a peer has: send it again', retryable: true, ...(output.peer !== undefined ? { peer: output.peer } : {}) } };
      }
      const reason = output.kind === 'none' ? output.reason : 'exhausted';
      if (context.lastError && reason !== 'no_route') return { failure: failureOf(context.lastError) };
      const message = reason === 'no_route' ? 'no route serves this model, environment and use case' : reason === 'retry_budget' ? 'the retry budget is spent' : 'no deployment left to try';
      return { failure: { code: reason === 'no_route' ? 'no_route' : reason === 'retry_budget' ? 'retry_budget_exhausted' : 'all_deployments_failed', message, retryable: reason !== 'no_route' } };
    }),
    emitError: emit(({ context }) => ({
      type: 'out' as const,
      event: { type: 'error' as const, error: { code: context.failure?.code ?? 'internal', message: context.failure?.message ?? 'request failed', retryable: context.failure?.retryable ?? false } },
    })),
  },
}).createMachine({
  id: 'request',
  context: ({ input }) => ({
    request: input.request,
    limits: {
      ttftLimitMs: input.ttftLimitMs,
      deadlineMs: input.deadlineMs,
      hedging: input.hedging ?? false,
      hedgeAfterMs: input.hedgeAfterMs,
      maxAttempts: input.maxAttempts ?? 5,
      maxResumes: input.maxResumes ?? 1,
    },
    scope: input.scope,
    chosen: input.chosen,
    attempts: [],
    live: [],
    winner: undefined,
    hedge: undefined,
    tried: [],
    started: false,
    delivered: '',
    deliveredToolCall: false,
    usage: {},
    resuming: false,
    resumed: 0,
    lastError: undefined,
    failure: undefined,
  }),
  initial: 'starting',
  on: {
    cancel: { target: '.failed', actions: [{ type: 'abandonLive', params: { reason: 'cancelled' } }, { type: 'failWith', params: { code: 'cancelled', message: 'the caller cancelled the request' } }] },
  },
  after: {
    deadline: {
      guard: 'hasDeadline',
      target: '.failed',
      actions: [{ type: 'abandonLive', params: { reason: 'ttft_timeout' } }, { type: 'failWith', params: { code: 'deadline_exceeded', message: "the caller's deadline passed", retryable: true } }],
    },
  },
  states: {
    /** With a first choice made at once by whoever started the request, no `choose` is invoked for it. */
    starting: {
      always: [
        { guard: ({ context }) => context.chosen?.kind === 'candidate', target: 'connecting', actions: [{ type: 'takeCandidate', params: ({ context }) => context.chosen! }, 'spawnLatest'] },
        { guard: ({ context }) => context.chosen !== undefined, target: 'failed', actions: { type: 'failNoCandidate', params: ({ context }) => context.chosen! } },
        { target: 'choosing' },
      ],
    },
    choosing: {
      invoke: {
        id: 'choose',
        src: 'choose',
        input: ({ context }) => ({ request: context.request, tried: context.tried, retry: context.attempts.length > 0, resume: context.resuming, scope: context.scope }),
        onDone: [
          { guard: ({ event }) => event.output.kind === 'candidate', target: 'connecting', actions: [{ type: 'takeCandidate', params: ({ event }) => event.output }, 'spawnLatest'] },
          { target: 'failed', actions: { type: 'failNoCandidate', params: ({ event }) => event.output } },
        ],
        onError: { target: 'failed', actions: { type: 'failWith', params: { code: 'internal', message: 'choosing a deployment failed' } } },
      },
    },
    connecting: {
      after: {
        ttftLimit: [
          { guard: 'canRetryAfterTimeout', target: 'choosing', actions: { type: 'abandonLive', params: { reason: 'ttft_timeout' } } },
          {
            target: 'failed',
            actions: [{ type: 'abandonLive', params: { reason: 'ttft_timeout' } }, { type: 'failWith', params: { code: 'vendor_timeout', message: 'no first token within the limit', retryable: true } }],
          },
        ],
        hedgeDelay: { guard: 'canHedge', actions: 'startHedge' },
      },
      on: {
        'attempt.event': [
          { guard: ({ context, event }) => context.live.some((a) => a.id === event.attemptId) && event.event.type === 'delta', target: 'streaming', actions: ['crownWinner', 'forward'] },
          { guard: ({ context, event }) => context.live.some((a) => a.id === event.attemptId) && event.event.type === 'end', target: 'done', actions: ['crownWinner', 'forward'] },
          { guard: 'fromLive', actions: 'forward' },
        ],
        'attempt.failed': [
          { guard: ({ context, event }) => !context.live.some((a) => a.id === event.attemptId) },
          { guard: 'othersStillRunning', actions: 'dropFailed' },
          { guard: 'canRetry', target: 'choosing', actions: 'dropFailed' },
          { target: 'failed', actions: ['dropFailed', 'failFromLast'] },
        ],
      },
    },
    streaming: {
      on: {
        'attempt.event': [
          { guard: ({ context, event }) => context.winner?.id === event.attemptId && event.event.type === 'end', target: 'done', actions: 'forward' },
          { guard: 'fromWinner', actions: 'forward' },
        ],
        'attempt.failed': [
          { guard: ({ context, event }) => context.winner?.id !== event.attemptId },
          { guard: 'canResume', target: 'choosing', actions: ['dropFailed', 'beginResume'] },
          { target: 'failed', actions: ['dropFailed', 'failInterrupted'] },
        ],
      },
    },
    done: { type: 'final', entry: 'stopAll' },
    failed: { type: 'final', entry: ['stopAll', 'emitError'] },
  },
  output: ({ context }) => {
    const servedBy = context.failure ? undefined : context.winner?.candidate;
    return {
      ok: context.failure === undefined,
      attempts: context.attempts.map((a) => ({ deployment: a.candidate.deployment, model: a.candidate.model })),
      servedBy: servedBy ? { deployment: servedBy.deployment, model: servedBy.model } : undefined,
      resumed: context.resumed,
      failure: context.failure,
    };
  },
});

function failureOf(error: AttemptError): RequestFailure {
  return { code: error.code, message: error.message, retryable: error.retryable, retryAfterMs: error.retryAfterMs, ...(error.field !== undefined ? { field: error.field } : {}) };
}

function startOut(context: RequestContext): Extract<RequestEmitted, { type: 'out' }> {
  const served = context.winner?.candidate ?? context.live[0]?.candidate;
  const event: StreamEvent = { type: 'start', id: `req-${context.attempts.length}`, model: served?.model ?? context.request.model };
  return served ? { type: 'out', event, servedBy: { deployment: served.deployment, model: served.model, attempts: context.attempts.length } } : { type: 'out', event };
}
