/**
 * One request, from choice to its one terminal event: choose (or start from a choice already made)
 * → connect (admitted, waiting for the first token) → stream → done or failed. Pure: the vendor
 * call, the choice of deployment and the clock are provided by actors/, so every path here runs
 * under a simulated clock in tests.
 *
 * Before the first delivered token, a failure fails over to the next candidate without the caller
 * noticing. After it, a stream on a deployment that takes an assistant prefill resumes elsewhere
 * with the delivered text as prefill, so the caller gets the continuation with nothing repeated
 * and nothing lost; anywhere else the request ends in one `stream_interrupted` error carrying what
 * was delivered. Attempts run as spawned children so a hedge can race the first one; every child
 * is stopped before the request ends.
 */
import { assign, cancel, emit, enqueueActions, fromCallback, fromPromise, setup, type AnyEventObject } from 'xstate';
import type { CanonicalRequest, ErrorCode, StreamEvent } from '../src/domain/index.js';
import type { AttemptError, AttemptEvent, AttemptInput, ChooseInput, ChooseOutput, RequestContext, RequestEmitted, RequestEvent, RequestFailure, RequestInput, RequestOutput } from './request-types.js';

export type * from './request-types.js';

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
  },
  actions: {
    // The deadline and the hedge are timers only a request that has them sets: an `after` is set
    // on every entry, and most requests have neither (setting and clearing three timers a
    // request took 3.5 % of the router system's CPU).
    armDeadline: enqueueActions(({ context, enqueue }) => {
      if (context.limits.deadlineMs !== undefined) enqueue.raise({ type: 'deadline.passed' }, { id: 'deadline', delay: context.limits.deadlineMs });
    }),
    armHedge: enqueueActions(({ context, enqueue }) => {
      if (!context.limits.hedging || context.hedge === undefined) return;
      const delay = context.limits.hedgeAfterMs ?? context.live[0]?.candidate.p95TtftMs ?? context.limits.ttftLimitMs;
      // A hedge due no sooner than the time-to-first-token limit never starts: the limit moves the
      // request on first (this timer is set before the `after`, so on a tie it would fire first).
      if (delay >= context.limits.ttftLimitMs) return;
      enqueue.raise({ type: 'hedge.due' }, { id: 'hedge', delay });
    }),
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
      // Usage comes as an event of its own or folded into the next one; it is told at the end.
      const heard = e.type === 'usage' ? e.usage : event.usage;
      const usage = heard ? Object.assign({}, context.usage, heard) : context.usage;
      if (e.type === 'start' || e.type === 'usage') {
        if (heard) enqueue.assign({ usage });
        return;
      }
      if (e.type === 'end') {
        if (!context.started) enqueue.emit(startOut(context));
        if (usage.inputTokens !== undefined || usage.outputTokens !== undefined) {
          enqueue.emit({ type: 'out', event: { type: 'usage', usage } });
        }
        enqueue.emit({ type: 'out', event: e });
        enqueue.assign({ started: true, usage });
        return;
      }
      if (e.type === 'delta') {
        if (!context.started) enqueue.emit(startOut(context));
        enqueue.emit({ type: 'out', event: e });
        enqueue.assign({
          started: true,
          usage,
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
  entry: 'armDeadline',
  on: {
    cancel: { target: '.failed', actions: [{ type: 'abandonLive', params: { reason: 'cancelled' } }, { type: 'failWith', params: { code: 'cancelled', message: 'the caller cancelled the request' } }] },
    'deadline.passed': {
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
      entry: 'armHedge',
      exit: cancel('hedge'),
      after: {
        ttftLimit: [
          { guard: 'canRetryAfterTimeout', target: 'choosing', actions: { type: 'abandonLive', params: { reason: 'ttft_timeout' } } },
          {
            target: 'failed',
            actions: [{ type: 'abandonLive', params: { reason: 'ttft_timeout' } }, { type: 'failWith', params: { code: 'vendor_timeout', message: 'no first token within the limit', retryable: true } }],
          },
        ],
      },
      on: {
        'hedge.due': { guard: 'canHedge', actions: 'startHedge' },
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
