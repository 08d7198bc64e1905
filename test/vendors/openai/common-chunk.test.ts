/**
 * The hand-made check for the common stream chunk (common-chunk.ts) accepts only what zod's
 * schema accepts, and what it lets through reads the same as zod's copy of it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCommonChunk } from '../../../src/vendors/openai/common-chunk.js';
import { OpenAIStreamDecoder } from '../../../src/vendors/openai/stream.js';
import { OpenAIChunkSchema } from '../../../src/vendors/openai/wire.js';

// Mostly what a vendor sends, sometimes not: each field is usual with weight 6 against 1.
const usually = <T, U>(usual: fc.Arbitrary<T>, unusual: fc.Arbitrary<U>) => fc.oneof({ arbitrary: usual, weight: 6 }, { arbitrary: unusual, weight: 1 });
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, arb, fc.constant(null));
const odd = fc.oneof(fc.integer(), fc.boolean(), fc.constant([]), fc.constant({}));
const text = usually(fc.string({ maxLength: 8 }), odd);
const omitUndefined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
const delta = fc.record({ role: maybe(text), content: maybe(text), refusal: maybe(text), tool_calls: maybe(fc.constant([{ index: 0, id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }])), extra: maybe(odd) }).map(omitUndefined);
const choice = fc
  .record({ index: usually(fc.constant(0), fc.constantFrom(1, -1, 0.5, '0')), delta: usually(delta, fc.constantFrom(undefined, null, 'x')), finish_reason: maybe(fc.constantFrom('stop', 'length', 'bogus')), logprobs: maybe(odd) })
  .map(omitUndefined);
const chunk = fc
  .record({
    id: usually(fc.string({ maxLength: 6 }), fc.integer()),
    object: usually(fc.constantFrom('chat.completion.chunk', undefined), fc.integer()),
    created: usually(fc.integer(), fc.string({ maxLength: 3 })),
    model: usually(fc.constantFrom('gpt-4.1', ''), fc.integer()),
    system_fingerprint: maybe(text),
    choices: usually(fc.array(choice, { minLength: 1, maxLength: 1 }), fc.oneof(fc.array(choice, { maxLength: 2 }), fc.constant(null))),
    usage: maybe(fc.constant({ prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 })),
    azure: maybe(odd),
  })
  .map(omitUndefined);

describe('the common OpenAI stream chunk', () => {
  it('is accepted only where the schema accepts it, and reads as the schema reads it (property)', () => {
    fc.assert(
      fc.property(chunk, (json) => {
        if (!isCommonChunk(json)) return;
        const parsed = OpenAIChunkSchema.safeParse(json);
        expect(parsed.success).toBe(true);
        expect(json).toMatchObject(parsed.data!);
      }),
      { numRuns: 2_000, seed: 12 },
    );
  });

  it('the generator above reaches both sides of the check', () => {
    const drawn = fc.sample(chunk, { numRuns: 2_000, seed: 12 });
    const accepted = drawn.filter(isCommonChunk).length;
    expect(accepted).toBeGreaterThan(200);
    expect(drawn.length - accepted).toBeGreaterThan(200);
  });

  it('a stream of common chunks decodes as before: start, text, and the end after usage', () => {
    const decoder = new OpenAIStreamDecoder();
    const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4.1' };
    const events = [
      { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: { content: 'Hel' }, finish_reason: null }], content_filter_results: {} },
      { ...base, choices: [{ index: 0, delta: { content: 'lo' } }] },
      { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
      { ...base, choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } },
    ].flatMap((e) => decoder.push(JSON.stringify(e)));
    expect([...events, ...decoder.push('[DONE]')]).toEqual([
      { type: 'start', id: 'chatcmpl-1', model: 'gpt-4.1' },
      { type: 'delta', index: 0, delta: { type: 'text', text: 'Hel' } },
      { type: 'delta', index: 0, delta: { type: 'text', text: 'lo' } },
      { type: 'usage', usage: { inputTokens: 3, outputTokens: 2 } },
      { type: 'end', stopReason: 'end_turn' },
    ]);
  });

  it('a chunk the check does not know still meets the schema, and its errors', () => {
    expect(() => new OpenAIStreamDecoder().push(JSON.stringify({ id: 'x', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 7 } }] }))).toThrow(/not a chat.completion.chunk/);
  });
});
