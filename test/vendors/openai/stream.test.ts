import { readFileSync } from 'node:fs';
import { createParser } from 'eventsource-parser';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import type { StreamEvent } from '../../../src/domain/index.js';
import { MalformedStreamError, OpenAIStreamDecoder, OpenAIStreamEncoder, formatSseData } from '../../../src/vendors/openai/stream.js';
import { OpenAIChunkSchema, OpenAIErrorEnvelopeSchema, OpenAIResponseSchema } from '../../../src/vendors/openai/wire.js';

const fixtureText = (path: string): string => readFileSync(new URL(`../../fixtures/${path}`, import.meta.url), 'utf8');

/** The `data:` payloads of an SSE text, split by a real SSE parser. */
function sseData(text: string): string[] {
  const data: string[] = [];
  createParser({ onEvent: (event) => data.push(event.data) }).feed(text);
  return data;
}

function decodeAll(text: string, decoder = new OpenAIStreamDecoder()): StreamEvent[] {
  return sseData(text).flatMap((payload) => decoder.push(payload));
}

const simOptions = { id: 'chatcmpl-sim1', model: 'gpt-4o-mini', created: 1718000000, includeUsage: true, systemFingerprint: 'fp_sim' };

describe('OpenAIStreamDecoder', () => {
  it('decodes the exact bytes of §2.3 (stream-text.sse)', () => {
    const decoder = new OpenAIStreamDecoder();
    expect(decodeAll(fixtureText('openai/stream-text.sse'), decoder)).toEqual([
      { type: 'start', id: 'chatcmpl-sim1', model: 'gpt-4o-mini' },
      { type: 'delta', index: 0, delta: { type: 'text', text: 'Hello' } },
      { type: 'usage', usage: { inputTokens: 9, outputTokens: 2 } },
      { type: 'end', stopReason: 'end_turn' },
    ]);
    expect(decoder.done).toBe(true);
    expect(decoder.sawFinish).toBe(true);
  });

  it('decodes two streamed tool calls as blocks 1 and 2, id and name on the first fragment (stream-tool-calls.sse)', () => {
    const events = decodeAll(fixtureText('openai/stream-tool-calls.sse'));
    expect(events).toEqual([
      { type: 'start', id: 'chatcmpl-sim2', model: 'gpt-4o-mini' },
      { type: 'delta', index: 1, delta: { type: 'tool_call', id: 'call_weather_paris', name: 'get_weather', argumentsJson: '' } },
      { type: 'delta', index: 1, delta: { type: 'tool_call', argumentsJson: '{"city":' } },
      { type: 'delta', index: 1, delta: { type: 'tool_call', argumentsJson: ' "Paris"}' } },
      { type: 'delta', index: 2, delta: { type: 'tool_call', id: 'call_weather_rome', name: 'get_weather', argumentsJson: '' } },
      { type: 'delta', index: 2, delta: { type: 'tool_call', argumentsJson: '{"city": "Rome"}' } },
      { type: 'usage', usage: { inputTokens: 82, outputTokens: 46, cacheReadTokens: 0 } },
      { type: 'end', stopReason: 'tool_use' },
    ]);
    const paris = events.flatMap((e) => (e.type === 'delta' && e.index === 1 && e.delta.type === 'tool_call' ? [e.delta.argumentsJson] : [])).join('');
    expect(JSON.parse(paris)).toEqual({ city: 'Paris' });
  });

  it('skips Azure\'s first chunk (choices [], model "", prompt_filter_results) and starts at the first real id (azure/stream-text.sse)', () => {
    const decoder = new OpenAIStreamDecoder();
    expect(decodeAll(fixtureText('azure/stream-text.sse'), decoder)).toEqual([
      { type: 'start', id: 'chatcmpl-AzSim3', model: 'gpt-4o-2024-08-06' },
      { type: 'delta', index: 0, delta: { type: 'text', text: 'Hello' } },
      { type: 'delta', index: 0, delta: { type: 'text', text: ' from Azure.' } },
      { type: 'usage', usage: { inputTokens: 136, outputTokens: 4, cacheReadTokens: 1408 } },
      { type: 'end', stopReason: 'end_turn' },
    ]);
    expect(decoder.sawFinish).toBe(true);
  });

  it('turns a mid-stream data: {"error":…} into an error event, and no end (stream-server-error.sse)', () => {
    const decoder = new OpenAIStreamDecoder();
    expect(decodeAll(fixtureText('openai/stream-server-error.sse'), decoder)).toEqual([
      { type: 'start', id: 'chatcmpl-sim4', model: 'gpt-4o-mini' },
      { type: 'delta', index: 0, delta: { type: 'text', text: 'The answer' } },
      { type: 'error', error: { code: 'server_error', message: 'The server had an error while processing your request. Sorry about that!' } },
    ]);
    expect(decoder.done).toBe(false);
    expect(decoder.sawFinish).toBe(false);
  });

  it('takes the error code from code, then type, then server_error (Azure sends the status as a string)', () => {
    const decoder = new OpenAIStreamDecoder();
    expect(decoder.push('{"error":{"code":"429","message":"Requests exceeded token rate limit."}}')).toEqual([
      { type: 'error', error: { code: '429', message: 'Requests exceeded token rate limit.' } },
    ]);
    expect(decoder.push('{"error":{"message":"slow down","type":"tokens","param":null,"code":null}}')).toEqual([
      { type: 'error', error: { code: 'tokens', message: 'slow down' } },
    ]);
    expect(decoder.push('{"error":{"message":"oops"}}')).toEqual([{ type: 'error', error: { code: 'server_error', message: 'oops' } }]);
  });

  it('emits nothing for a [DONE] without any finish_reason, so the adapter can call the answer truncated', () => {
    const decoder = new OpenAIStreamDecoder();
    const cut = sseData(fixtureText('openai/stream-text.sse')).filter((d) => !d.includes('"finish_reason":"stop"'));
    const events = cut.flatMap((d) => decoder.push(d));
    expect(events.map((e) => e.type)).toEqual(['start', 'delta', 'usage']);
    expect(decoder.done).toBe(true);
    expect(decoder.sawFinish).toBe(false);
  });

  it('ignores everything after [DONE]', () => {
    const decoder = new OpenAIStreamDecoder();
    decodeAll(fixtureText('openai/stream-text.sse'), decoder);
    expect(decoder.push('{"id":"chatcmpl-late","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"late"}}]}')).toEqual([]);
    expect(decoder.push('not json at all')).toEqual([]);
  });

  it('throws MalformedStreamError with an excerpt of at most 200 characters on malformed JSON', () => {
    const decoder = new OpenAIStreamDecoder();
    const garbage = `{"id":"chatcmpl-x","choices":[${'x'.repeat(500)}`;
    let thrown: unknown;
    try {
      decoder.push(garbage);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(MalformedStreamError);
    const malformed = thrown as MalformedStreamError;
    expect(malformed.name).toBe('MalformedStreamError');
    expect(malformed.excerpt).toBe(garbage.slice(0, 200));
    expect(malformed.cause).toBeInstanceOf(SyntaxError);
  });

  it('throws MalformedStreamError on JSON that is not a chunk', () => {
    expect(() => new OpenAIStreamDecoder().push('{"id":"chatcmpl-x","created":1,"model":"m"}')).toThrow(MalformedStreamError);
    expect(() => new OpenAIStreamDecoder().push('[1,2,3]')).toThrow(MalformedStreamError);
  });

  it('passes over Azure asynchronous-filter chunks that carry annotations and no delta', () => {
    const decoder = new OpenAIStreamDecoder();
    const chunk = '{"id":"chatcmpl-Az","created":1,"model":"gpt-4o","object":"chat.completion.chunk","choices":[{"index":0,"finish_reason":null,"content_filter_offsets":{"check_offset":0,"start_offset":0,"end_offset":5},"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}]}';
    expect(decoder.push(chunk)).toEqual([{ type: 'start', id: 'chatcmpl-Az', model: 'gpt-4o' }]);
  });

  it('reads a forced tool call that OpenAI finishes with stop as tool_use', () => {
    const decoder = new OpenAIStreamDecoder();
    decoder.push('{"id":"c","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]}}]}');
    decoder.push('{"id":"c","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}');
    expect(decoder.push('[DONE]')).toEqual([{ type: 'end', stopReason: 'tool_use' }]);
  });
});

describe('OpenAIStreamEncoder', () => {
  it('encodes the events of §2.3 back into its exact bytes', () => {
    const events = decodeAll(fixtureText('openai/stream-text.sse'));
    const encoder = new OpenAIStreamEncoder(simOptions);
    const text = events.flatMap((e) => encoder.encode(e)).map(formatSseData).join('');
    expect(text).toBe(fixtureText('openai/stream-text.sse'));
  });

  it('numbers tool calls from 0 in order of appearance, whatever their canonical block index', () => {
    // An Anthropic answer: tool_use at block 0, then more text at block 1.
    const encoder = new OpenAIStreamEncoder({ id: 'chatcmpl-x', model: 'gpt-4o', created: 5, includeUsage: false });
    const payloads = [
      encoder.encode({ type: 'start', id: 'msg_1', model: 'claude-sonnet-4' }),
      encoder.encode({ type: 'delta', index: 0, delta: { type: 'tool_call', id: 'toolu_1', name: 'f', argumentsJson: '' } }),
      encoder.encode({ type: 'delta', index: 0, delta: { type: 'tool_call', argumentsJson: '{"a":1}' } }),
      encoder.encode({ type: 'delta', index: 1, delta: { type: 'text', text: 'done' } }),
    ].flat();
    const chunks = payloads.map((p) => OpenAIChunkSchema.parse(JSON.parse(p)));
    expect(chunks.map((c) => c.choices[0]?.delta)).toEqual([
      { role: 'assistant', content: '', refusal: null },
      { tool_calls: [{ index: 0, id: 'toolu_1', type: 'function', function: { name: 'f', arguments: '' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '{"a":1}' } }] },
      { content: 'done' },
    ]);
    expect(chunks.every((c) => c.id === 'chatcmpl-x' && c.model === 'gpt-4o' && c.usage === undefined)).toBe(true);
  });

  it('merges usage reported in parts and sends it after the finish chunk, just before [DONE]', () => {
    const encoder = new OpenAIStreamEncoder({ id: 'chatcmpl-u', model: 'gpt-4o', created: 5, includeUsage: true });
    const payloads = [
      { type: 'start', id: 'msg_1', model: 'claude' },
      { type: 'usage', usage: { inputTokens: 30, cacheReadTokens: 10 } },
      { type: 'delta', index: 0, delta: { type: 'text', text: 'Hi' } },
      { type: 'usage', usage: { outputTokens: 4 } },
      { type: 'end', stopReason: 'max_tokens' },
    ].flatMap((e) => encoder.encode(e as StreamEvent));
    expect(payloads.at(-1)).toBe('[DONE]');
    const [finish, usage] = payloads.slice(-3, -1).map((p) => JSON.parse(p) as Record<string, unknown>);
    expect(finish).toMatchObject({ choices: [{ index: 0, delta: {}, finish_reason: 'length' }], usage: null });
    expect(usage).toMatchObject({ choices: [], usage: { prompt_tokens: 40, completion_tokens: 4, total_tokens: 44, prompt_tokens_details: { cached_tokens: 10 } } });
  });

  it('encodes an error event as an OpenAI error object and sends nothing after it, not even [DONE]', () => {
    const encoder = new OpenAIStreamEncoder({ id: 'chatcmpl-e', model: 'gpt-4o', created: 5, includeUsage: true });
    encoder.encode({ type: 'start', id: 'x', model: 'y' });
    const payloads = encoder.encode({ type: 'error', error: { code: 'vendor_stream_error', message: 'upstream failed', retryable: true } });
    expect(payloads.map((p) => JSON.parse(p) as unknown)).toEqual([
      { error: { message: 'upstream failed', type: 'server_error', param: null, code: 'vendor_stream_error' } },
    ]);
    expect(OpenAIErrorEnvelopeSchema.safeParse(JSON.parse(payloads[0] ?? '')).success).toBe(true);
    expect(encoder.encode({ type: 'end', stopReason: 'end_turn' })).toEqual([]);
  });

  it('formats one payload as one SSE event', () => {
    expect(formatSseData('[DONE]')).toBe('data: [DONE]\n\n');
    expect(sseData(formatSseData('line one\nline two'))).toEqual(['line one\nline two']);
  });

  it('is read by the official openai SDK, tool calls accumulated, and its errors raised', async () => {
    const encoder = new OpenAIStreamEncoder({ id: 'chatcmpl-sdk', model: 'gpt-4o-mini', created: 1718000000, includeUsage: true });
    const events: StreamEvent[] = [
      { type: 'start', id: 'msg_1', model: 'claude' },
      { type: 'delta', index: 0, delta: { type: 'text', text: 'Checking.' } },
      { type: 'delta', index: 1, delta: { type: 'tool_call', id: 'call_1', name: 'get_weather', argumentsJson: '{"city"' } },
      { type: 'delta', index: 1, delta: { type: 'tool_call', argumentsJson: ':"Paris"}' } },
      { type: 'usage', usage: { inputTokens: 12, outputTokens: 7 } },
      { type: 'end', stopReason: 'tool_use' },
    ];
    const sse = events.flatMap((e) => encoder.encode(e)).map(formatSseData).join('');
    const clientFor = (body: string) =>
      new OpenAI({
        apiKey: 'sk-test',
        baseURL: 'http://simulator.invalid/v1',
        maxRetries: 0,
        fetch: () => Promise.resolve(new Response(body, { headers: { 'content-type': 'text/event-stream' } })),
      });
    const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Weather in Paris?' }], stream_options: { include_usage: true } };
    const completion = await clientFor(sse).chat.completions.stream(request).finalChatCompletion();
    expect(OpenAIResponseSchema.safeParse(completion).success).toBe(true);
    expect(completion.choices[0]?.message).toMatchObject({
      content: 'Checking.',
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
    });
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
    expect(completion.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 });

    const failing = new OpenAIStreamEncoder({ id: 'chatcmpl-sdk', model: 'gpt-4o-mini', created: 1, includeUsage: false });
    const broken = [
      ...failing.encode({ type: 'delta', index: 0, delta: { type: 'text', text: 'partial' } }),
      ...failing.encode({ type: 'error', error: { code: 'vendor_stream_error', message: 'upstream failed' } }),
    ]
      .map(formatSseData)
      .join('');
    const consume = async () => {
      for await (const _chunk of await clientFor(broken).chat.completions.create({ ...request, stream: true })) void _chunk;
    };
    await expect(consume()).rejects.toThrow(/upstream failed/);
  });
});

describe('recorded non-streaming fixtures', () => {
  const json = (path: string): unknown => JSON.parse(fixtureText(path));

  it('parses the OpenAI chat completion (chat-completion.json)', () => {
    const body = OpenAIResponseSchema.parse(json('openai/chat-completion.json'));
    expect(body.choices[0]?.message.content).toBe('Hi!');
    expect(body.usage?.prompt_tokens_details?.cached_tokens).toBe(0);
  });

  it('parses the OpenAI insufficient_quota error (error-insufficient-quota.json)', () => {
    const { error } = OpenAIErrorEnvelopeSchema.parse(json('openai/error-insufficient-quota.json'));
    expect(error).toMatchObject({ type: 'insufficient_quota', code: 'insufficient_quota', param: null });
  });

  it('parses the Azure content_filter error with its innererror (azure/error-content-filter.json)', () => {
    const { error } = OpenAIErrorEnvelopeSchema.parse(json('azure/error-content-filter.json'));
    expect(error).toMatchObject({ type: null, param: 'prompt', code: 'content_filter', innererror: { code: 'ResponsibleAIPolicyViolation' } });
  });
});
