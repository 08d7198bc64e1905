import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CanonicalRequest } from '../../src/domain/index.js';
import { answerFor, fullAnswerTokens } from '../../src/simulator/index.js';

const ask = (text: string, extra: Partial<CanonicalRequest> = {}): CanonicalRequest => ({
  model: 'claude-sonnet-4',
  maxTokens: 500,
  messages: [{ role: 'user', content: [{ type: 'text', text }] }],
  ...extra,
});

describe('deterministic answers', () => {
  it('depend on the conversation and the seed, never on the model asked', () => {
    const a = answerFor(ask('hello'), 1).tokens.join('');
    expect(answerFor(ask('hello'), 1).tokens.join('')).toBe(a);
    expect(answerFor(ask('hello', { model: 'gpt-4.1' }), 1).tokens.join('')).toBe(a);
    expect(answerFor(ask('hello again'), 1).tokens.join('')).not.toBe(a);
    expect(answerFor(ask('hello'), 2).tokens.join('')).not.toBe(a);
  });

  it('continue after a delivered prefix exactly, with nothing repeated or lost', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), fc.nat(), fc.nat(), (prompt, seed, cut) => {
        const full = fullAnswerTokens(ask(prompt), seed);
        const delivered = full.slice(0, cut % full.length).join('');
        const request = ask(prompt);
        if (delivered) request.messages.push({ role: 'assistant', content: [{ type: 'text', text: delivered }] });
        expect(delivered + answerFor(request, seed).tokens.join('')).toBe(full.join(''));
      }),
      { numRuns: 300 },
    );
  });

  it('stop at max tokens and at a stop sequence', () => {
    const limited = answerFor(ask('hello', { maxTokens: 3 }), 1);
    expect(limited.tokens).toHaveLength(3);
    expect(limited.stopReason).toBe('max_tokens');
    const text = fullAnswerTokens(ask('hello'), 1).join('');
    const word = text.split(' ')[2] ?? '';
    const stopped = answerFor(ask('hello', { stopSequences: [word] }), 1);
    expect(stopped.stopReason).toBe('stop_sequence');
    expect(stopped.stopSequence).toBe(word);
    expect(stopped.tokens.join('')).not.toContain(word);
  });

  it('call a tool when forced, or when the user names it, with the required arguments', () => {
    const tools = [{ name: 'lookup', inputSchema: { type: 'object', properties: { id: { type: 'integer' }, q: { type: 'string' } }, required: ['id', 'q'] } }];
    const forced = answerFor(ask('anything', { tools, toolChoice: { type: 'any' } }), 1);
    expect(forced.stopReason).toBe('tool_use');
    expect(forced.toolCall).toMatchObject({ name: 'lookup', arguments: { id: 1, q: 'anything' } });
    expect(answerFor(ask('please lookup order 7', { tools }), 1).toolCall?.name).toBe('lookup');
    expect(answerFor(ask('no tools wanted', { tools }), 1).toolCall).toBeUndefined();
  });
});
