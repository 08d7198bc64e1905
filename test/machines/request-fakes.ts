/**
 * Scripted stand-ins for the request machine's two actors, so its paths run under a simulated
 * clock: `choose` hands out candidates in order; `attempt` plays a script of what each deployment
 * does (deliver tokens, fail before or after some, or hang).
 */
import { fromCallback, fromPromise, type AnyEventObject } from 'xstate';
import type { StreamEvent } from '../../src/domain/index.js';
import type { AttemptInput, CandidateChoice, ChooseInput, ChooseOutput } from '../../machines/request.machine.js';

export interface Script {
  /** The whole answer this deployment would give (continuations start after the prefill). */
  tokens: string[];
  /** Fail after delivering this many tokens (0: before the first); undefined: finish. */
  failAfter?: number;
  /** Never answer. */
  hang?: boolean;
  retryable?: boolean;
  failureClass?: 'fault' | 'caller' | 'capacity';
}

export function candidate(deployment: string, extra: Partial<CandidateChoice> = {}): CandidateChoice {
  return { deployment, model: 'claude', vendorRegion: deployment, prefill: true, ...extra };
}

export function fakes(options: { candidates: CandidateChoice[]; scripts: Record<string, Script>; hedge?: boolean }) {
  const chosen: ChooseInput[] = [];
  const started: string[] = [];
  const stopped: string[] = [];
  const choose = fromPromise<ChooseOutput, ChooseInput>(({ input }) => {
    chosen.push(input);
    const remaining = options.candidates.filter((c) => !input.tried.includes(c.deployment));
    const [first, second] = remaining;
    return Promise.resolve(first ? { kind: 'candidate', candidate: first, hedge: options.hedge ? second : undefined } : { kind: 'none', reason: 'exhausted' });
  });
  const attempt = fromCallback<AnyEventObject, AttemptInput>(({ input, sendBack }) => {
    started.push(input.candidate.deployment);
    const script = options.scripts[input.candidate.deployment] ?? { tokens: [] };
    let alive = true;
    if (!script.hang) {
      // A prefill continues the answer: skip the delivered text, as the simulator does.
      const last = input.request.messages.at(-1);
      const prefill = last?.role === 'assistant' ? last.content.map((b) => (b.type === 'text' ? b.text : '')).join('') : '';
      let consumed = '';
      let from = 0;
      while (prefill && from < script.tokens.length && consumed.length < prefill.length) consumed += script.tokens[from++];
      const tokens = script.tokens.slice(from);
      void (async () => {
        const send = (event: StreamEvent) => alive && sendBack({ type: 'attempt.event', attemptId: input.attemptId, event });
        await Promise.resolve();
        send({ type: 'start', id: input.attemptId, model: input.candidate.model });
        for (let i = 0; i < tokens.length; i++) {
          if (script.failAfter !== undefined && i === script.failAfter) break;
          await Promise.resolve();
          send({ type: 'delta', index: 0, delta: { type: 'text', text: tokens[i]! } });
        }
        await Promise.resolve();
        if (!alive) return;
        if (script.failAfter !== undefined && script.failAfter < tokens.length) {
          sendBack({
            type: 'attempt.failed',
            attemptId: input.attemptId,
            error: { code: 'vendor_stream_truncated', message: 'cut', failureClass: script.failureClass ?? 'fault', retryable: script.retryable ?? true },
          });
        } else {
          send({ type: 'usage', usage: { outputTokens: tokens.length } });
          send({ type: 'end', stopReason: 'end_turn' });
        }
      })();
    }
    return () => {
      alive = false;
      stopped.push(input.candidate.deployment);
    };
  });
  return { choose, attempt, chosen, started, stopped };
}
