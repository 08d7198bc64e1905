import fc from 'fast-check';
import { SimulatedClock, createActor, initialTransition, transition, waitFor } from 'xstate';
import { describe, expect, it } from 'vitest';
import type { CanonicalRequest, StreamEvent } from '../../src/domain/index.js';
import { requestMachine, withPrefill, type RequestEmitted, type RequestInput } from '../../machines/request.machine.js';
import { candidate, fakes, type Script } from './request-fakes.js';

const request: CanonicalRequest = { model: 'claude', maxTokens: 100, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] };
const answer = ['The', ' quick', ' brown', ' fox', ' jumps', ' over', ' the', ' lazy', ' dog', '.'];

function run(options: { scripts: Record<string, Script>; candidates?: string[]; input?: Partial<RequestInput>; hedge?: boolean; clock?: SimulatedClock }) {
  const f = fakes({ candidates: (options.candidates ?? Object.keys(options.scripts)).map((d) => candidate(d)), scripts: options.scripts, hedge: options.hedge });
  const machine = requestMachine.provide({ actors: { choose: f.choose, attempt: f.attempt } });
  const actor = createActor(machine, { input: { request, ttftLimitMs: 1000, ...options.input }, ...(options.clock ? { clock: options.clock } : {}) });
  const out: StreamEvent[] = [];
  const abandoned: RequestEmitted[] = [];
  actor.on('out', (e) => out.push(e.event));
  actor.on('abandoned', (e) => abandoned.push(e));
  actor.start();
  const text = () => out.map((e) => (e.type === 'delta' && e.delta.type === 'text' ? e.delta.text : '')).join('');
  return { actor, out, abandoned, text, ...f };
}

describe('request machine (pure transitions)', () => {
  it('starts by choosing, and connects when a candidate comes back', () => {
    const [initial, actions] = initialTransition(requestMachine, { request, ttftLimitMs: 1000 });
    expect(initial.value).toBe('choosing');
    expect(actions.some((a) => a.type === 'xstate.spawnChild')).toBe(true);
    const [connecting] = transition(requestMachine, initial, {
      type: 'xstate.done.actor.choose',
      output: { kind: 'candidate', candidate: candidate('a') },
      actorId: 'choose',
    } as never);
    expect(connecting.value).toBe('connecting');
    expect(connecting.context.live.map((a) => a.candidate.deployment)).toEqual(['a']);
  });

  it('sets a timer for the deadline and the hedge only for a request that has them', () => {
    const timers = (input: Partial<RequestInput>) => {
      const chosen = { kind: 'candidate' as const, candidate: candidate('a'), hedge: candidate('b') };
      const [, actions] = initialTransition(requestMachine, { request, ttftLimitMs: 1000, chosen, ...input });
      return actions.flatMap((a) => {
        const params = a.params as { event?: { type: string }; delay?: unknown } | undefined;
        return a.type === 'xstate.raise' && typeof params?.delay === 'number' ? [`${params.event?.type} ${params.delay}`] : [];
      });
    };
    expect(timers({})).toEqual(['xstate.after.ttftLimit.request.connecting 1000']);
    expect(timers({ deadlineMs: 5000, hedging: true, hedgeAfterMs: 200 }).sort()).toEqual(['deadline.passed 5000', 'hedge.due 200', 'xstate.after.ttftLimit.request.connecting 1000']);
  });

  it('fails with no_route when nothing serves the request', () => {
    const [initial] = initialTransition(requestMachine, { request, ttftLimitMs: 1000 });
    const [failed] = transition(requestMachine, initial, { type: 'xstate.done.actor.choose', output: { kind: 'none', reason: 'no_route' }, actorId: 'choose' } as never);
    expect(failed.value).toBe('failed');
    expect(failed.context.failure).toMatchObject({ code: 'no_route', retryable: false });
  });

  it('streams after the first delta and ends done on the end event', () => {
    const [initial] = initialTransition(requestMachine, { request, ttftLimitMs: 1000 });
    let [s] = transition(requestMachine, initial, { type: 'xstate.done.actor.choose', output: { kind: 'candidate', candidate: candidate('a') }, actorId: 'choose' } as never);
    [s] = transition(requestMachine, s, { type: 'attempt.event', attemptId: 'attempt-1', event: { type: 'delta', index: 0, delta: { type: 'text', text: 'Hi' } } });
    expect(s.value).toBe('streaming');
    expect(s.context.delivered).toBe('Hi');
    [s] = transition(requestMachine, s, { type: 'attempt.event', attemptId: 'attempt-1', event: { type: 'end', stopReason: 'end_turn' } });
    expect(s.value).toBe('done');
  });

  it('tells usage at the end, whether it came alone or folded into the events after it', () => {
    const ends = (events: Parameters<typeof transition<typeof requestMachine>>[2][]) => {
      const [initial] = initialTransition(requestMachine, { request, ttftLimitMs: 1000 });
      let [s] = transition(requestMachine, initial, { type: 'xstate.done.actor.choose', output: { kind: 'candidate', candidate: candidate('a') }, actorId: 'choose' } as never);
      const emitted: unknown[] = [];
      for (const event of events) {
        let actions;
        [s, actions] = transition(requestMachine, s, event);
        // Emitted events are executable actions of their own; the types only name the machine's.
        for (const a of actions as { type: string; params?: unknown }[]) if (a.type === 'xstate.emit') emitted.push((a.params as { event: { event: StreamEvent } }).event.event);
      }
      return { value: s.value, usage: emitted.filter((e) => (e as StreamEvent).type === 'usage') };
    };
    const delta = { type: 'delta', index: 0, delta: { type: 'text', text: 'Hi' } } as const;
    const end = { type: 'end', stopReason: 'end_turn' } as const;
    const alone = ends([
      { type: 'attempt.event', attemptId: 'attempt-1', event: { type: 'usage', usage: { inputTokens: 3 } } },
      { type: 'attempt.event', attemptId: 'attempt-1', event: delta },
      { type: 'attempt.event', attemptId: 'attempt-1', event: { type: 'usage', usage: { outputTokens: 5 } } },
      { type: 'attempt.event', attemptId: 'attempt-1', event: end },
    ]);
    const folded = ends([
      { type: 'attempt.event', attemptId: 'attempt-1', event: delta, usage: { inputTokens: 3 } },
      { type: 'attempt.event', attemptId: 'attempt-1', event: end, usage: { outputTokens: 5 } },
    ]);
    expect(alone).toEqual({ value: 'done', usage: [{ type: 'usage', usage: { inputTokens: 3, outputTokens: 5 } }] });
    expect(folded).toEqual(alone);
  });

  it('ignores events from attempts that are no longer live', () => {
    const [initial] = initialTransition(requestMachine, { request, ttftLimitMs: 1000 });
    let [s] = transition(requestMachine, initial, { type: 'xstate.done.actor.choose', output: { kind: 'candidate', candidate: candidate('a') }, actorId: 'choose' } as never);
    [s] = transition(requestMachine, s, { type: 'attempt.event', attemptId: 'attempt-9', event: { type: 'delta', index: 0, delta: { type: 'text', text: 'stale' } } });
    expect(s.value).toBe('connecting');
    expect(s.context.delivered).toBe('');
  });
});

describe('request machine started from a choice already made', () => {
  it('connects to the chosen candidate without invoking choose', async () => {
    const r = run({ scripts: { a: { tokens: answer }, b: { tokens: answer } }, input: { chosen: { kind: 'candidate', candidate: candidate('b') } } });
    await waitFor(r.actor, (s) => s.status === 'done');
    expect(r.chosen).toHaveLength(0);
    expect(r.text()).toBe(answer.join(''));
    expect(r.actor.getSnapshot().output).toMatchObject({ ok: true, servedBy: { deployment: 'b' }, attempts: [{ deployment: 'b' }] });
  });

  it('fails at once on a chosen refusal, without invoking choose', () => {
    const r = run({ scripts: { a: { tokens: answer } }, input: { chosen: { kind: 'none', reason: 'no_route' } } });
    expect(r.actor.getSnapshot().value).toBe('failed');
    expect(r.actor.getSnapshot().context.failure).toMatchObject({ code: 'no_route', retryable: false });
    expect(r.chosen).toHaveLength(0);
  });

  it('invokes choose for the retry after a chosen candidate fails', async () => {
    const r = run({ scripts: { a: { tokens: answer, failAfter: 0 }, b: { tokens: answer } }, input: { chosen: { kind: 'candidate', candidate: candidate('a') } } });
    await waitFor(r.actor, (s) => s.status === 'done');
    expect(r.chosen.map((input) => ({ tried: input.tried, retry: input.retry }))).toEqual([{ tried: ['a'], retry: true }]);
    expect(r.actor.getSnapshot().output).toMatchObject({ ok: true, servedBy: { deployment: 'b' }, attempts: [{ deployment: 'a' }, { deployment: 'b' }] });
  });
});

describe('request machine (simulated clock)', () => {
  it('fails over before the first token without the caller seeing it', async () => {
    const r = run({ scripts: { a: { tokens: answer, failAfter: 0 }, b: { tokens: answer } } });
    await waitFor(r.actor, (s) => s.status === 'done');
    expect(r.text()).toBe(answer.join(''));
    expect(r.out.some((e) => e.type === 'error')).toBe(false);
    expect(r.actor.getSnapshot().output).toMatchObject({ ok: true, servedBy: { deployment: 'b' }, attempts: [{ deployment: 'a' }, { deployment: 'b' }] });
  });

  it('abandons an attempt at the time-to-first-token limit and tries the next', async () => {
    const clock = new SimulatedClock();
    const r = run({ scripts: { a: { tokens: answer, hang: true }, b: { tokens: answer } }, clock, input: { ttftLimitMs: 500 } });
    await waitFor(r.actor, (s) => s.value === 'connecting');
    clock.increment(499);
    expect(r.started).toEqual(['a']);
    clock.increment(1);
    await waitFor(r.actor, (s) => s.status === 'done');
    expect(r.stopped).toContain('a');
    expect(r.abandoned).toEqual([{ type: 'abandoned', deployment: 'a', reason: 'ttft_timeout' }]);
    expect(r.text()).toBe(answer.join(''));
  });

  it('starts no hedge due with the time-to-first-token limit or later: the limit moves the request on first', async () => {
    // No p95 yet and no hedge delay of its own: the hedge would be due exactly at the limit.
    const clock = new SimulatedClock();
    const r = run({ scripts: { a: { tokens: answer, hang: true }, b: { tokens: answer, hang: true }, c: { tokens: answer } }, hedge: true, clock, input: { hedging: true, ttftLimitMs: 1000 } });
    await waitFor(r.actor, (s) => s.value === 'connecting');
    clock.increment(1000);
    await waitFor(r.actor, (s) => s.value === 'connecting' && s.context.attempts.length === 2);
    expect(r.started).toEqual(['a', 'b']);
    expect(r.abandoned).toEqual([{ type: 'abandoned', deployment: 'a', reason: 'ttft_timeout' }]);
    clock.increment(1000);
    const done = await waitFor(r.actor, (s) => s.status === 'done');
    expect(done.output?.ok).toBe(true);
    expect(r.started).toEqual(['a', 'b', 'c']);
    expect(r.text()).toBe(answer.join(''));
  });

  it('re-arms the hedge on a retry and cancels it when the attempt answers', async () => {
    const clock = new SimulatedClock();
    const f = fakes({ candidates: [candidate('a', { p95TtftMs: 300 }), candidate('b', { p95TtftMs: 300 }), candidate('c')], scripts: { a: { tokens: answer, failAfter: 0 }, b: { tokens: answer, hang: true }, c: { tokens: answer } }, hedge: true });
    const actor = createActor(requestMachine.provide({ actors: { choose: f.choose, attempt: f.attempt } }), { input: { request, ttftLimitMs: 1000, hedging: true }, clock });
    actor.start();
    // a fails at once: the retry goes to b, and b's hedge (c) is due 300 ms after b started.
    await waitFor(actor, (s) => s.value === 'connecting' && s.context.live[0]?.candidate.deployment === 'b');
    expect(f.started).toEqual(['a', 'b']);
    clock.increment(299);
    expect(f.started).toEqual(['a', 'b']);
    clock.increment(1);
    const done = await waitFor(actor, (s) => s.status === 'done');
    expect(f.started).toEqual(['a', 'b', 'c']);
    expect(done.output?.servedBy?.deployment).toBe('c');
  });

  it("hedges after the first attempt's p95, and cancels the loser at the winner's first token", async () => {
    const clock = new SimulatedClock();
    const f = fakes({ candidates: [candidate('slow', { p95TtftMs: 200 }), candidate('fast')], scripts: { slow: { tokens: answer, hang: true }, fast: { tokens: answer } }, hedge: true });
    const actor = createActor(requestMachine.provide({ actors: { choose: f.choose, attempt: f.attempt } }), { input: { request, ttftLimitMs: 5000, hedging: true }, clock });
    const abandoned: RequestEmitted[] = [];
    actor.on('abandoned', (e) => abandoned.push(e));
    actor.start();
    await waitFor(actor, (s) => s.value === 'connecting');
    clock.increment(200);
    await waitFor(actor, (s) => s.status === 'done');
    expect(f.started).toEqual(['slow', 'fast']);
    expect(f.stopped).toContain('slow');
    expect(abandoned).toEqual([{ type: 'abandoned', deployment: 'slow', reason: 'hedge_lost' }]);
    expect(actor.getSnapshot().output?.servedBy?.deployment).toBe('fast');
  });

  it('resumes after the first token with the delivered text as prefill, on a prefill deployment', async () => {
    const r = run({ scripts: { a: { tokens: answer, failAfter: 4 }, b: { tokens: answer } } });
    await waitFor(r.actor, (s) => s.status === 'done');
    expect(r.text()).toBe(answer.join(''));
    expect(r.out.filter((e) => e.type === 'start')).toHaveLength(1);
    expect(r.chosen.at(-1)).toMatchObject({ resume: true, tried: ['a'] });
    expect(r.actor.getSnapshot().output).toMatchObject({ ok: true, resumed: 1 });
  });

  it('ends with one stream_interrupted error, carrying what was delivered, where no prefill is possible', async () => {
    const f = fakes({ candidates: [candidate('a', { prefill: false }), candidate('b', { prefill: false })], scripts: { a: { tokens: answer, failAfter: 3 }, b: { tokens: answer } } });
    const actor = createActor(requestMachine.provide({ actors: { choose: f.choose, attempt: f.attempt } }), { input: { request, ttftLimitMs: 1000 } });
    const out: StreamEvent[] = [];
    actor.on('out', (e) => out.push(e.event));
    actor.start();
    await waitFor(actor, (s) => s.status === 'done');
    const errors = out.filter((e) => e.type === 'error');
    expect(errors).toHaveLength(1);
    expect(out.at(-1)?.type).toBe('error');
    expect(actor.getSnapshot().output?.failure).toMatchObject({ code: 'stream_interrupted', delivered: answer.slice(0, 3).join('') });
  });

  it('returns a caller error at once', async () => {
    const r = run({ scripts: { a: { tokens: answer, failAfter: 0, retryable: false, failureClass: 'caller' }, b: { tokens: answer } } });
    await waitFor(r.actor, (s) => s.status === 'done');
    expect(r.started).toEqual(['a']);
    expect(r.actor.getSnapshot().output?.failure).toMatchObject({ code: 'vendor_stream_truncated', retryable: false });
  });

  it('honours the deadline and cancellation, stopping every attempt', async () => {
    const clock = new SimulatedClock();
    const late = run({ scripts: { a: { tokens: answer, hang: true } }, clock, input: { deadlineMs: 300, ttftLimitMs: 10_000 } });
    await waitFor(late.actor, (s) => s.value === 'connecting');
    clock.increment(300);
    expect(late.actor.getSnapshot().output?.failure?.code).toBe('deadline_exceeded');
    expect(late.stopped).toEqual(['a']);

    const cancelled = run({ scripts: { a: { tokens: answer, hang: true } } });
    await waitFor(cancelled.actor, (s) => s.value === 'connecting');
    cancelled.actor.send({ type: 'cancel' });
    expect(cancelled.actor.getSnapshot().output?.failure?.code).toBe('cancelled');
    expect(cancelled.stopped).toEqual(['a']);
    expect(Object.keys(cancelled.actor.getSnapshot().children)).toEqual([]);
  });

  it('property: resumed streams never duplicate or drop text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ minLength: 1, maxLength: 6 }), { minLength: 2, maxLength: 30 }), fc.nat(), async (words, cutSeed) => {
        const tokens = words.map((w, i) => (i === 0 ? w : ` ${w}`));
        const cut = 1 + (cutSeed % (tokens.length - 1));
        const r = run({ scripts: { a: { tokens, failAfter: cut }, b: { tokens } } });
        await waitFor(r.actor, (s) => s.status === 'done');
        expect(r.text()).toBe(tokens.join(''));
        expect(r.out.filter((e) => e.type === 'end')).toHaveLength(1);
      }),
      { numRuns: 150 },
    );
  });

  it('builds the prefill request from the delivered text', () => {
    const resumed = withPrefill(request, 'The quick');
    expect(resumed.messages.at(-1)).toEqual({ role: 'assistant', content: [{ type: 'text', text: 'The quick' }] });
    expect(request.messages).toHaveLength(1);
  });
});
