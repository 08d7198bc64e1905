import { readFileSync } from 'node:fs';
import { createParser } from 'eventsource-parser';
import { describe, expect, it } from 'vitest';
import { StreamEventSchema, type StreamEvent } from '../../../src/domain/index.js';
import { AnthropicStreamDecoder, AnthropicStreamEncoder, MalformedStreamError, formatSse } from '../../../src/vendors/anthropic/stream.js';
import { AnthropicErrorSchema, AnthropicResponseSchema, AnthropicStreamEventSchema } from '../../../src/vendors/anthropic/wire.js';

function fixture(name: string): string {
  return readFileSync(new URL(`../../fixtures/anthropic/${name}`, import.meta.url), 'utf8');
}

function splitSse(text: string): { event?: string; data: string }[] {
  const events: { event?: string; data: string }[] = [];
  createParser({ onEvent: (e) => events.push({ ...(e.event !== undefined && { event: e.event }), data: e.data }) }).feed(text);
  return events;
}

function decodeAll(text: string, decoder = new AnthropicStreamDecoder()): StreamEvent[] {
  return splitSse(text).flatMap((e) => decoder.push(e));
}

const TEXT_STREAM_EVENTS: StreamEvent[] = [
  { type: 'start', id: 'msg_sim_001', model: 'claude-sonnet-4-20250514' },
  { type: 'usage', usage: { inputTokens: 12 } },
  { type: 'delta', index: 0, delta: { type: 'text', text: 'Hello' } },
  { type: 'delta', index: 0, delta: { type: 'text', text: ' there!' } },
  { type: 'usage', usage: { outputTokens: 5 } },
  { type: 'end', stopReason: 'end_turn' },
];

describe('AnthropicStreamDecoder', () => {
  it('decodes the documented text stream (section 1.3 bytes), ignoring ping', () => {
    const decoder = new AnthropicStreamDecoder();
    const events = decodeAll(fixture('stream-text.sse'), decoder);
    expect(events).toStrictEqual(TEXT_STREAM_EVENTS);
    expect(decoder.done).toBe(true);
    for (const e of events) expect(StreamEventSchema.safeParse(e).success).toBe(true);
  });

  it('decodes a tool-use stream: id and name on the opening fragment, JSON in pieces after it', () => {
    const events = decodeAll(fixture('stream-tool-use.sse'));
    expect(events).toStrictEqual([
      { type: 'start', id: 'msg_01Aq9w938a90dw8q', model: 'claude-sonnet-4-20250514' },
      { type: 'usage', usage: { inputTokens: 472, cacheReadTokens: 0, cacheWriteTokens: 0 } },
      { type: 'delta', index: 0, delta: { type: 'text', text: 'Okay' } },
      { type: 'delta', index: 0, delta: { type: 'text', text: ', let me check the weather in San Francisco.' } },
      { type: 'delta', index: 1, delta: { type: 'tool_call', id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'get_weather', argumentsJson: '' } },
      { type: 'delta', index: 1, delta: { type: 'tool_call', argumentsJson: '' } },
      { type: 'delta', index: 1, delta: { type: 'tool_call', argumentsJson: '{"location": "San Fra' } },
      { type: 'delta', index: 1, delta: { type: 'tool_call', argumentsJson: 'ncisco, CA", "unit": "fahrenheit"}' } },
      { type: 'usage', usage: { outputTokens: 89 } },
      { type: 'end', stopReason: 'tool_use' },
    ]);
    const json = events.flatMap((e) => (e.type === 'delta' && e.delta.type === 'tool_call' ? [e.delta.argumentsJson] : [])).join('');
    expect(JSON.parse(json)).toStrictEqual({ location: 'San Francisco, CA', unit: 'fahrenheit' });
  });

  it('accepts data padded with trailing spaces, as real Anthropic streams send it', () => {
    const padded = fixture('stream-text.sse').replace(/^(data: .*)$/gm, '$1      ');
    expect(padded).toContain('{"type":"message_stop"}      \n');
    expect(decodeAll(padded)).toStrictEqual(TEXT_STREAM_EVENTS);
  });

  it('turns a mid-stream overloaded error into a canonical error event and is not done', () => {
    const decoder = new AnthropicStreamDecoder();
    const events = decodeAll(fixture('stream-overloaded-error.sse'), decoder);
    expect(events.at(-1)).toStrictEqual({ type: 'error', error: { code: 'overloaded_error', message: 'Overloaded' } });
    expect(events.filter((e) => e.type === 'delta')).toHaveLength(1);
    expect(decoder.done).toBe(false);
  });

  it('recognises an error by its data type when there is no event name (Bedrock chunks)', () => {
    const decoder = new AnthropicStreamDecoder();
    expect(decoder.push({ data: '{"type":"error","error":{"type":"api_error","message":"Internal server error"}}' })).toStrictEqual([
      { type: 'error', error: { code: 'api_error', message: 'Internal server error' } },
    ]);
  });

  it('throws MalformedStreamError with a short excerpt on data that is not JSON', () => {
    const decoder = new AnthropicStreamDecoder();
    const data = `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"${'x'.repeat(500)}`;
    let caught: unknown;
    try {
      decoder.push({ event: 'content_block_delta', data });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MalformedStreamError);
    const error = caught as MalformedStreamError;
    expect(error.excerpt).toBe(data.slice(0, 200));
    expect(error.message).toMatch(/not JSON/);
  });

  it('throws MalformedStreamError on JSON of the wrong shape and on JSON without a type', () => {
    const decoder = new AnthropicStreamDecoder();
    expect(() => decoder.push({ event: 'content_block_delta', data: '{"type":"content_block_delta","delta":{"type":"text_delta","text":"x"}}' })).toThrow(
      /documented shape at index/,
    );
    expect(() => decoder.push({ data: '[1,2]' })).toThrow(MalformedStreamError);
    expect(() => decoder.push({ event: 'error', data: '{"type":"error"}' })).toThrow(MalformedStreamError);
  });

  it('is not done when the stream ends without message_stop', () => {
    const decoder = new AnthropicStreamDecoder();
    const cut = fixture('stream-text.sse').replace('event: message_stop\ndata: {"type":"message_stop"}\n\n', '');
    const events = decodeAll(cut, decoder);
    expect(decoder.done).toBe(false);
    expect(events.some((e) => e.type === 'end')).toBe(false);
  });

  it('ignores everything after message_stop, including garbage and Bedrock metrics', () => {
    const decoder = new AnthropicStreamDecoder();
    decodeAll(fixture('stream-text.sse'), decoder);
    expect(decoder.push({ event: 'content_block_delta', data: '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"late"}}' })).toStrictEqual([]);
    expect(decoder.push({ data: 'not json' })).toStrictEqual([]);
  });

  it('skips thinking blocks and their deltas and keeps canonical indexes dense', () => {
    const decoder = new AnthropicStreamDecoder();
    const push = (data: object) => decoder.push({ data: JSON.stringify(data) });
    expect(push({ type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } })).toStrictEqual([]);
    expect(push({ type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Hmm' } })).toStrictEqual([]);
    expect(push({ type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'abc' } })).toStrictEqual([]);
    expect(push({ type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } })).toStrictEqual([]);
    expect(push({ type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Hi' } })).toStrictEqual([
      { type: 'delta', index: 0, delta: { type: 'text', text: 'Hi' } },
    ]);
  });

  it('ignores event types newer than itself', () => {
    expect(new AnthropicStreamDecoder().push({ event: 'future_event', data: '{"type":"future_event","x":1}' })).toStrictEqual([]);
  });

  it('maps stream stop reasons, keeps the stop sequence and repeated input counts from message_delta', () => {
    const decoder = new AnthropicStreamDecoder();
    expect(
      decoder.push({
        data: JSON.stringify({
          type: 'message_delta',
          delta: { stop_reason: 'model_context_window_exceeded', stop_sequence: null },
          usage: { output_tokens: 7, input_tokens: 30, cache_read_input_tokens: 4, cache_creation_input_tokens: null },
        }),
      }),
    ).toStrictEqual([{ type: 'usage', usage: { outputTokens: 7, inputTokens: 30, cacheReadTokens: 4 } }]);
    decoder.push({ data: JSON.stringify({ type: 'message_delta', delta: { stop_reason: 'stop_sequence', stop_sequence: '###' }, usage: { output_tokens: 9 } }) });
    expect(decoder.push({ data: '{"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":14}}' })).toStrictEqual([
      { type: 'end', stopReason: 'stop_sequence', stopSequence: '###' },
    ]);
  });
});

describe('AnthropicStreamEncoder', () => {
  it('produces the section 1.3 event order, which decodes back to the same events', () => {
    const encoder = new AnthropicStreamEncoder();
    const frames = TEXT_STREAM_EVENTS.flatMap((e) => encoder.encode(e));
    expect(frames.map((f) => f.event)).toStrictEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    for (const f of frames) expect(AnthropicStreamEventSchema.safeParse(f.data).success).toBe(true);
    // The same JSON as the documented bytes, apart from the ping.
    const documented = splitSse(fixture('stream-text.sse'))
      .filter((e) => e.event !== 'ping')
      .map((e) => JSON.parse(e.data));
    expect(frames.map((f) => f.data)).toStrictEqual(documented);
    const text = frames.map((f) => formatSse(f.event, f.data)).join('');
    expect(decodeAll(text)).toStrictEqual(TEXT_STREAM_EVENTS);
  });

  it('opens tool_use blocks with id and name, and closes each block when the index changes', () => {
    const encoder = new AnthropicStreamEncoder({ model: 'claude-sonnet-4' });
    const events: StreamEvent[] = [
      { type: 'start', id: 'msg_1', model: 'claude-sonnet-4-20250514' },
      { type: 'delta', index: 0, delta: { type: 'text', text: 'Checking.' } },
      { type: 'delta', index: 1, delta: { type: 'tool_call', id: 'toolu_1', name: 'get_weather', argumentsJson: '{"city":' } },
      { type: 'delta', index: 1, delta: { type: 'tool_call', argumentsJson: '"Paris"}' } },
      { type: 'end', stopReason: 'tool_use' },
    ];
    const frames = events.flatMap((e) => encoder.encode(e));
    expect(frames.map((f) => (f.event === 'content_block_start' || f.event === 'content_block_stop' ? `${f.event}:${(f.data as { index: number }).index}` : f.event))).toStrictEqual([
      'message_start',
      'content_block_start:0',
      'content_block_delta',
      'content_block_stop:0',
      'content_block_start:1',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop:1',
      'message_delta',
      'message_stop',
    ]);
    expect(frames[0]?.data).toMatchObject({ message: { model: 'claude-sonnet-4', usage: { input_tokens: 0, output_tokens: 1 } } });
    expect(frames[4]?.data).toStrictEqual({
      type: 'content_block_start',
      index: 1,
      content_block: { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} },
    });
    expect(frames[8]?.data).toStrictEqual({ type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 0 } });
  });

  it('encodes an empty answer as message_start, message_delta, message_stop', () => {
    const encoder = new AnthropicStreamEncoder();
    const frames = [
      ...encoder.encode({ type: 'start', id: 'msg_2', model: 'm' }),
      ...encoder.encode({ type: 'usage', usage: { inputTokens: 3, outputTokens: 0 } }),
      ...encoder.encode({ type: 'end', stopReason: 'content_filter' }),
    ];
    expect(frames.map((f) => f.event)).toStrictEqual(['message_start', 'message_delta', 'message_stop']);
    expect(frames[1]?.data).toMatchObject({ delta: { stop_reason: 'refusal' } });
  });

  it('encodes an error as event: error with the Anthropic envelope, and nothing after it', () => {
    const encoder = new AnthropicStreamEncoder();
    encoder.encode({ type: 'start', id: 'msg_3', model: 'm' });
    encoder.encode({ type: 'delta', index: 0, delta: { type: 'text', text: 'Hel' } });
    const frames = encoder.encode({ type: 'error', error: { code: 'overloaded_error', message: 'Overloaded', retryable: true } });
    expect(frames).toStrictEqual([{ event: 'error', data: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } }]);
    expect(AnthropicErrorSchema.safeParse(frames[0]?.data).success).toBe(true);
    expect(encoder.encode({ type: 'end', stopReason: 'end_turn' })).toStrictEqual([]);
  });

  it('formats SSE as event line, one data line and a blank line', () => {
    expect(formatSse('message_stop', { type: 'message_stop' })).toBe('event: message_stop\ndata: {"type":"message_stop"}\n\n');
    expect(formatSse('content_block_delta', { text: 'a\nb' })).toBe('event: content_block_delta\ndata: {"text":"a\\nb"}\n\n');
  });
});

describe('recorded bodies', () => {
  it('parses the recorded non-streaming response, ignoring the keys it does not know', () => {
    const parsed = AnthropicResponseSchema.parse(JSON.parse(fixture('message.json')));
    expect(parsed.usage).toStrictEqual({ input_tokens: 12, output_tokens: 9, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
    expect(parsed.content).toStrictEqual([{ type: 'text', text: 'Hi! How can I help?' }]);
  });

  it('parses the recorded rate-limit error envelope', () => {
    const parsed = AnthropicErrorSchema.parse(JSON.parse(fixture('error-rate-limit.json')));
    expect(parsed.error.type).toBe('rate_limit_error');
    expect(parsed.request_id).toBe('req_011CSLsW7mFqvHHnzrKdKjAE');
  });
});
