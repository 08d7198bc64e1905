import { createParser } from 'eventsource-parser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CanonicalRequestSchema,
  CanonicalResponseSchema,
  STOP_REASONS,
  StreamEventSchema,
  type CanonicalRequest,
  type CanonicalResponse,
  type StopReason,
  type StreamEvent,
} from '../../../src/domain/index.js';
import { AnthropicStreamDecoder, AnthropicStreamEncoder, formatSse } from '../../../src/vendors/anthropic/stream.js';
import { fromAnthropicRequest, fromAnthropicResponse, toAnthropicRequest, toAnthropicResponse } from '../../../src/vendors/anthropic/translate.js';
import { AnthropicRequestSchema, AnthropicResponseSchema, AnthropicStreamEventSchema } from '../../../src/vendors/anthropic/wire.js';

const RUNS = { numRuns: 200 };

// ------------------------------------------------------------------------------------- generators

/** Short keys keep `__proto__` (nine characters) out: JSON.parse would make it an own key, a literal would not. */
/** fast-check may build records without a prototype, which toStrictEqual tells apart from the translation's plain objects. */
const plain = { noNullPrototype: true } as const;

const key = fc.stringMatching(/^[a-z_]{1,8}$/);
/** Generated as JSON reads it back: jsonValue can yield -0, which JSON writes as 0. */
const jsonObject = fc
  .dictionary(key, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4, ...plain })
  .map((o) => JSON.parse(JSON.stringify(o)) as Record<string, unknown>);
const nonEmpty = fc.string({ minLength: 1, maxLength: 20 });
const count = fc.nat({ max: 1_000_000 });

const text = fc.record({ type: fc.constant('text' as const), text: fc.string({ unit: 'binary', maxLength: 30 }) }, plain);
const image = fc.record({
  type: fc.constant('image' as const),
  source: fc.oneof(
    fc.record({ kind: fc.constant('base64' as const), mediaType: fc.constantFrom('image/png', 'image/jpeg', 'image/webp'), data: fc.base64String({ minLength: 4, maxLength: 40 }) }, plain),
    fc.record({ kind: fc.constant('url' as const), url: fc.webUrl() }, plain),
  ),
}, plain);
const toolCall = fc.record({ type: fc.constant('tool_call' as const), id: nonEmpty, name: nonEmpty, arguments: jsonObject }, plain);
const toolResult = fc.record(
  {
    type: fc.constant('tool_result' as const),
    toolCallId: nonEmpty,
    content: fc.array(fc.oneof(text, image), { maxLength: 3 }),
    isError: fc.boolean(),
  },
  { requiredKeys: ['type', 'toolCallId', 'content'], ...plain },
);
const toolName = fc.stringMatching(/^[a-zA-Z0-9_-]{1,64}$/);

const canonicalRequest: fc.Arbitrary<CanonicalRequest> = fc.record(
  {
    model: nonEmpty,
    system: fc.string({ maxLength: 40 }),
    messages: fc.array(
      // Each role says only what every vendor lets it say (canonical.ts): the user shows images and returns tool results, the assistant calls tools.
      fc.oneof(
        fc.record({ role: fc.constant('user' as const), content: fc.array(fc.oneof(text, image, toolResult), { minLength: 1, maxLength: 4 }) }, plain),
        fc.record({ role: fc.constant('assistant' as const), content: fc.array(fc.oneof(text, toolCall), { minLength: 1, maxLength: 4 }) }, plain),
      ),
      { minLength: 1, maxLength: 4 },
    ),
    tools: fc.array(fc.record({ name: toolName, description: fc.string(), inputSchema: jsonObject }, { requiredKeys: ['name', 'inputSchema'], ...plain }), { maxLength: 3 }),
    toolChoice: fc.oneof(
      fc.constant({ type: 'auto' as const }),
      fc.constant({ type: 'any' as const }),
      fc.constant({ type: 'none' as const }),
      fc.record({ type: fc.constant('tool' as const), name: toolName }, plain),
    ),
    maxTokens: fc.integer({ min: 1, max: 200_000 }),
    // Up to 1 only: above it the translation clamps on purpose (covered by an example test).
    temperature: fc.double({ min: 0, max: 1, noNaN: true }),
    topP: fc.double({ min: Number.MIN_VALUE, max: 1, noNaN: true }),
    stopSequences: fc.array(nonEmpty, { maxLength: 16 }),
    user: fc.string(),
  },
  { requiredKeys: ['model', 'messages', 'maxTokens'], ...plain },
);

const usage = fc.record(
  { inputTokens: count, outputTokens: count, cacheReadTokens: count, cacheWriteTokens: count },
  { requiredKeys: ['inputTokens', 'outputTokens'], ...plain },
);

const canonicalResponse: fc.Arbitrary<CanonicalResponse> = fc.record(
  {
    id: fc.string(),
    model: fc.string(),
    content: fc.array(fc.oneof(text, toolCall), { maxLength: 4 }),
    stopReason: fc.constantFrom(...STOP_REASONS),
    stopSequence: fc.string(),
    usage,
  },
  { requiredKeys: ['id', 'model', 'content', 'stopReason', 'usage'], ...plain },
);

type Block = { kind: 'text'; fragments: string[] } | { kind: 'tool'; id: string; name: string; fragments: string[] };

const block: fc.Arbitrary<Block> = fc.oneof(
  fc.record({ kind: fc.constant('text' as const), fragments: fc.array(fc.string({ unit: 'binary', maxLength: 12 }), { minLength: 1, maxLength: 5 }) }, plain),
  fc.record({ kind: fc.constant('tool' as const), id: nonEmpty, name: toolName, fragments: fc.array(fc.string({ maxLength: 12 }), { maxLength: 5 }) }, plain),
);

/**
 * A canonical stream in the form the decoder produces: a tool call opens with an empty-arguments
 * fragment, since Anthropic says id and name in content_block_start and the JSON only after it.
 */
const canonicalStream: fc.Arbitrary<StreamEvent[]> = fc
  .record({
    id: fc.string(),
    model: fc.string(),
    opening: fc.record({ inputTokens: count, cacheReadTokens: count, cacheWriteTokens: count }, { requiredKeys: ['inputTokens'], ...plain }),
    blocks: fc.array(block, { maxLength: 4 }),
    outputTokens: count,
    stopReason: fc.constantFrom(...STOP_REASONS),
    stopSequence: fc.option(fc.string(), { nil: undefined }),
  }, plain)
  .map(({ id, model, opening, blocks, outputTokens, stopReason, stopSequence }): StreamEvent[] => [
    { type: 'start', id, model },
    { type: 'usage', usage: opening },
    ...blocks.flatMap((b, index): StreamEvent[] =>
      b.kind === 'text'
        ? b.fragments.map((t) => ({ type: 'delta', index, delta: { type: 'text', text: t } }))
        : [
            { type: 'delta', index, delta: { type: 'tool_call', id: b.id, name: b.name, argumentsJson: '' } },
            ...b.fragments.map((f): StreamEvent => ({ type: 'delta', index, delta: { type: 'tool_call', argumentsJson: f } })),
          ],
    ),
    { type: 'usage', usage: { outputTokens } },
    { type: 'end', stopReason, ...(stopSequence !== undefined && { stopSequence }) },
  ]);

// --------------------------------------------------------------------------------------- helpers

/** Anthropic has one word for declined content: the only stop reason that does not come back as sent. */
function afterTrip(reason: StopReason): StopReason {
  return reason === 'content_filter' ? 'refusal' : reason;
}

function throughSse(events: StreamEvent[]): { decoded: StreamEvent[]; done: boolean } {
  const encoder = new AnthropicStreamEncoder();
  const frames = events.flatMap((e) => encoder.encode(e));
  for (const f of frames) expect(AnthropicStreamEventSchema.safeParse(f.data).success).toBe(true);
  const text = frames.map((f) => formatSse(f.event, f.data)).join('');
  const decoder = new AnthropicStreamDecoder();
  const decoded: StreamEvent[] = [];
  createParser({ onEvent: (e) => decoded.push(...decoder.push({ ...(e.event !== undefined && { event: e.event }), data: e.data })) }).feed(text);
  return { decoded, done: decoder.done };
}

function withTripStopReason(events: StreamEvent[]): StreamEvent[] {
  return events.map((e) => (e.type === 'end' ? { ...e, stopReason: afterTrip(e.stopReason) } : e));
}

/** What a client assembles from a stream: each block's text, or its tool call's id, name and JSON. */
function assemble(events: StreamEvent[]): unknown[] {
  const blocks: { text?: string; id?: string; name?: string; json?: string }[] = [];
  for (const e of events) {
    if (e.type !== 'delta') continue;
    const b = (blocks[e.index] ??= {});
    if (e.delta.type === 'text') b.text = (b.text ?? '') + e.delta.text;
    else {
      if (e.delta.id !== undefined) b.id = e.delta.id;
      if (e.delta.name !== undefined) b.name = e.delta.name;
      b.json = (b.json ?? '') + e.delta.argumentsJson;
    }
  }
  return blocks;
}

// ------------------------------------------------------------------------------------- properties

describe('Anthropic translation round trips', () => {
  it('a canonical request survives toAnthropicRequest, the wire (JSON and schema) and fromAnthropicRequest', () => {
    fc.assert(
      fc.property(canonicalRequest, (request) => {
        expect(CanonicalRequestSchema.safeParse(request).success).toBe(true);
        const body = toAnthropicRequest(request, request.model);
        const wire = AnthropicRequestSchema.parse(JSON.parse(JSON.stringify(body)));
        expect(fromAnthropicRequest(wire)).toStrictEqual(request);
      }),
      RUNS,
    );
  });

  it('a canonical response survives toAnthropicResponse, the wire and fromAnthropicResponse (content_filter reads back as refusal)', () => {
    fc.assert(
      fc.property(canonicalResponse, (response) => {
        expect(CanonicalResponseSchema.safeParse(response).success).toBe(true);
        const wire = AnthropicResponseSchema.parse(JSON.parse(JSON.stringify(toAnthropicResponse(response))));
        expect(fromAnthropicResponse(wire)).toStrictEqual({ ...response, stopReason: afterTrip(response.stopReason) });
      }),
      RUNS,
    );
  });

  // No merging of text fragments is needed: the encoder writes one text_delta per canonical
  // fragment and the decoder reads one back, so the fragmentation itself survives.
  it('a canonical stream survives the encoder, SSE text, an SSE parser and the decoder event for event', () => {
    fc.assert(
      fc.property(canonicalStream, (events) => {
        for (const e of events) expect(StreamEventSchema.safeParse(e).success).toBe(true);
        const { decoded, done } = throughSse(events);
        expect(done).toBe(true);
        expect(decoded).toStrictEqual(withTripStopReason(events));
      }),
      RUNS,
    );
  });

  // Arguments on a tool call's opening fragment come back as a separate fragment (Anthropic opens
  // a tool block without JSON), so here only what a client assembles must be equal.
  it('a stream whose tool calls open with arguments assembles to the same blocks after the trip', () => {
    const opening = fc.string({ maxLength: 12 });
    fc.assert(
      fc.property(canonicalStream, fc.array(opening, { minLength: 4, maxLength: 4 }), (events, openings) => {
        const withOpeningArgs = events.map((e): StreamEvent =>
          e.type === 'delta' && e.delta.type === 'tool_call' && e.delta.id !== undefined ? { ...e, delta: { ...e.delta, argumentsJson: openings[e.index] ?? '' } } : e,
        );
        const { decoded } = throughSse(withOpeningArgs);
        expect(assemble(decoded)).toStrictEqual(assemble(withOpeningArgs));
        expect(decoded.filter((e) => e.type !== 'delta')).toStrictEqual(withTripStopReason(withOpeningArgs).filter((e) => e.type !== 'delta'));
      }),
      RUNS,
    );
  });
});
