/**
 * Round trips through the OpenAI shape, over the subset of canonical requests, responses and
 * streams that both formats express. Outside it, by design (translate.ts lists the losses):
 * - image blocks inside tool results, and `isError` on tool results;
 * - a user turn whose text comes before its tool results (OpenAI puts tool messages first), and a
 *   user turn right after a turn of only tool results (both merge into one);
 * - two user or two assistant turns in a row (generated turns alternate, as conversations do);
 * - tool results with no text, text after a tool call in an assistant turn, empty text next to
 *   tool calls (dropped as meaningless);
 * - `stop_sequence` and `refusal` stop reasons, `end_turn` with tool calls (read back as tool_use),
 *   `stopSequence`, `cacheWriteTokens`, several text blocks in one response;
 * - in streams: empty text fragments (the role chunk's `content: ''` is not text), usage before an
 *   error (OpenAI reports usage only in its last chunk), `retryable` on errors.
 * Everything goes through JSON text and the wire schemas, as it would on a socket.
 */
import { createParser } from 'eventsource-parser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CanonicalRequestSchema,
  CanonicalResponseSchema,
  type CanonicalRequest,
  type CanonicalResponse,
  type ContentBlock,
  type Message,
  type StreamEvent,
  type ToolCallBlock,
} from '../../../src/domain/index.js';
import { OpenAIStreamDecoder, OpenAIStreamEncoder, formatSseData } from '../../../src/vendors/openai/stream.js';
import { fromOpenAIRequest, fromOpenAIResponse, toOpenAIRequest, toOpenAIResponse } from '../../../src/vendors/openai/translate.js';
import { OpenAIRequestSchema, OpenAIResponseSchema } from '../../../src/vendors/openai/wire.js';

const RUNS = { numRuns: 200 };

const overJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

/** Omits a key whose arbitrary came out undefined, as the translators omit absent fields. */
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

const toolName = fc.stringMatching(/^[a-zA-Z0-9_-]{1,64}$/);
const id = fc.string({ minLength: 1, maxLength: 24 });
// Tool inputs are JSON on every wire, so they are generated as JSON reads them back: jsonValue can
// yield -0, which JSON writes as 0. A `__proto__` key would be an own property only after parsing.
const jsonObject = fc
  .dictionary(fc.string({ maxLength: 8 }).filter((k) => k !== '__proto__'), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })
  .map((o) => overJson(o) as Record<string, unknown>);

const text = fc.string({ maxLength: 40 }).map((t) => ({ type: 'text' as const, text: t }));
const image = fc.oneof(
  fc
    .record({ mediaType: fc.constantFrom('image/png', 'image/jpeg', 'image/webp', 'image/gif'), data: fc.base64String({ minLength: 4, maxLength: 40 }) })
    .map(({ mediaType, data }) => ({ type: 'image' as const, source: { kind: 'base64' as const, mediaType, data } })),
  fc.webUrl().map((url) => ({ type: 'image' as const, source: { kind: 'url' as const, url } })),
);
const toolCall: fc.Arbitrary<ToolCallBlock> = fc.record({ type: fc.constant('tool_call' as const), id, name: toolName, arguments: jsonObject });
const toolResult = fc.record({ type: fc.constant('tool_result' as const), toolCallId: id, content: fc.array(text, { minLength: 1, maxLength: 3 }) });

const userMessage: fc.Arbitrary<Message> = fc
  .tuple(fc.array(toolResult, { maxLength: 3 }), fc.array(fc.oneof(text, image), { maxLength: 3 }))
  .filter(([results, rest]) => results.length + rest.length > 0)
  .map(([results, rest]) => ({ role: 'user', content: [...results, ...rest] }));

const assistantMessage: fc.Arbitrary<Message> = fc
  .tuple(fc.array(fc.string({ minLength: 1, maxLength: 40 }), { maxLength: 2 }), fc.array(toolCall, { maxLength: 3 }))
  .filter(([texts, calls]) => texts.length + calls.length > 0)
  .map(([texts, calls]) => ({ role: 'assistant', content: [...texts.map((t): ContentBlock => ({ type: 'text', text: t })), ...calls] }));

/** Alternating turns starting with the user; a turn after only tool results is the assistant's. */
const conversation = fc
  .array(fc.tuple(userMessage, assistantMessage), { minLength: 1, maxLength: 3 })
  .chain((pairs) => fc.boolean().map((endWithUser) => pairs.flat().slice(0, endWithUser ? -1 : undefined)))
  .filter((messages) => messages.length > 0);

const canonicalRequest: fc.Arbitrary<CanonicalRequest> = fc
  .record({
    model: fc.string({ minLength: 1, maxLength: 20 }),
    system: optional(fc.string({ maxLength: 40 })),
    messages: conversation,
    tools: optional(fc.array(fc.record({ name: toolName, description: optional(fc.string({ maxLength: 20 })), inputSchema: jsonObject }).map(compact), { maxLength: 3 })),
    toolChoice: optional(
      fc.oneof(
        fc.constant({ type: 'auto' as const }),
        fc.constant({ type: 'any' as const }),
        fc.constant({ type: 'none' as const }),
        toolName.map((name) => ({ type: 'tool' as const, name })),
      ),
    ),
    maxTokens: fc.integer({ min: 1, max: 200_000 }),
    temperature: optional(fc.double({ min: 0, max: 2, noNaN: true }).map((t) => (t === 0 ? 0 : t))),
    topP: optional(fc.double({ min: Number.MIN_VALUE, max: 1, noNaN: true })),
    stopSequences: optional(fc.array(fc.string({ minLength: 1, maxLength: 8 }), { maxLength: 4 })),
    user: optional(fc.string({ maxLength: 20 })),
  })
  .map(compact);

const usage = fc
  .record({ inputTokens: fc.nat(1_000_000), outputTokens: fc.nat(100_000), cacheReadTokens: optional(fc.nat(1_000_000)) })
  .map(compact);

const canonicalResponse: fc.Arbitrary<CanonicalResponse> = fc
  .record({
    id: fc.string({ maxLength: 24 }),
    model: fc.string({ maxLength: 24 }),
    text: optional(fc.string({ minLength: 1, maxLength: 40 })),
    calls: fc.array(toolCall, { maxLength: 3 }),
    stopReason: fc.constantFrom('end_turn' as const, 'max_tokens' as const, 'tool_use' as const, 'content_filter' as const),
    usage,
  })
  .filter(({ calls, stopReason }) => !(calls.length > 0 && stopReason === 'end_turn'))
  .map(({ text: t, calls, ...rest }) => ({ ...rest, content: [...(t === undefined ? [] : [{ type: 'text' as const, text: t }]), ...calls] }));

/**
 * Start, text fragments at block 0, tool calls at blocks 1.. (id and name on the first fragment),
 * more text, usage, then end or error. The encoder writes one chunk per fragment and the decoder
 * reads one fragment per chunk, so fragments come back as they went: no merging is needed.
 */
const eventSequence = fc
  .record({
    start: fc.record({ id, model: fc.string({ maxLength: 20 }) }),
    textBefore: fc.array(fc.string({ minLength: 1, maxLength: 12 }), { maxLength: 4 }),
    calls: fc.array(fc.record({ id, name: fc.string({ minLength: 1, maxLength: 12 }), fragments: fc.array(fc.string({ maxLength: 10 }), { minLength: 1, maxLength: 4 }) }), { maxLength: 3 }),
    textAfter: fc.array(fc.string({ minLength: 1, maxLength: 12 }), { maxLength: 2 }),
    usage: optional(usage),
    end: fc.oneof(
      fc.constantFrom('end_turn' as const, 'max_tokens' as const, 'tool_use' as const, 'content_filter' as const).map((stopReason) => ({ type: 'end' as const, stopReason })),
      fc.record({ code: fc.string({ minLength: 1, maxLength: 20 }), message: fc.string({ maxLength: 40 }) }).map((error) => ({ type: 'error' as const, error })),
    ),
  })
  .filter(({ calls, end }) => !(calls.length > 0 && end.type === 'end' && end.stopReason === 'end_turn'))
  .map(({ start, textBefore, calls, textAfter, usage: u, end }): StreamEvent[] => {
    const textDelta = (t: string): StreamEvent => ({ type: 'delta', index: 0, delta: { type: 'text', text: t } });
    const callDeltas = calls.flatMap((call, k) =>
      call.fragments.map((argumentsJson, i): StreamEvent => ({
        type: 'delta',
        index: k + 1,
        delta: i === 0 ? { type: 'tool_call', id: call.id, name: call.name, argumentsJson } : { type: 'tool_call', argumentsJson },
      })),
    );
    const usageEvents: StreamEvent[] = u !== undefined && end.type === 'end' ? [{ type: 'usage', usage: u }] : [];
    return [{ type: 'start', ...start }, ...textBefore.map(textDelta), ...callDeltas, ...textAfter.map(textDelta), ...usageEvents, end];
  });

function sseData(text: string): string[] {
  const data: string[] = [];
  createParser({ onEvent: (event) => data.push(event.data) }).feed(text);
  return data;
}

describe('OpenAI translation round trips', () => {
  it('generates valid canonical requests and responses (the properties below test real inputs)', () => {
    fc.assert(fc.property(canonicalRequest, (r) => CanonicalRequestSchema.safeParse(r).success), RUNS);
    fc.assert(fc.property(canonicalResponse, (r) => CanonicalResponseSchema.safeParse(r).success), RUNS);
  });

  it('fromOpenAIRequest(toOpenAIRequest(r)) gives r back', () => {
    fc.assert(
      fc.property(canonicalRequest, fc.boolean(), (request, stream) => {
        const wire = OpenAIRequestSchema.parse(overJson(toOpenAIRequest(request, request.model, { stream })));
        expect(fromOpenAIRequest(wire)).toEqual(request);
      }),
      RUNS,
    );
  });

  it('fromOpenAIResponse(toOpenAIResponse(r)) gives r back', () => {
    fc.assert(
      fc.property(canonicalResponse, (response) => {
        const wire = OpenAIResponseSchema.parse(overJson(toOpenAIResponse(response)));
        expect(fromOpenAIResponse(wire)).toEqual(response);
      }),
      RUNS,
    );
  });

  it('events → encoder → SSE text → SSE parser → decoder gives the events back', () => {
    fc.assert(
      fc.property(eventSequence, fc.boolean(), (events, includeUsage) => {
        const first = events[0];
        if (first?.type !== 'start') throw new Error('a sequence opens with start');
        const encoder = new OpenAIStreamEncoder({ id: first.id, model: first.model, created: 1718000000, includeUsage });
        const sse = events.flatMap((e) => encoder.encode(e)).map(formatSseData).join('');
        const decoder = new OpenAIStreamDecoder();
        const decoded = sseData(sse).flatMap((data) => decoder.push(data));
        // Without include_usage the caller asked not to hear about usage.
        expect(decoded).toEqual(includeUsage ? events : events.filter((e) => e.type !== 'usage'));
        expect(decoder.done).toBe(events.at(-1)?.type === 'end');
        expect(decoder.sawFinish).toBe(events.at(-1)?.type === 'end');
      }),
      RUNS,
    );
  });
});
