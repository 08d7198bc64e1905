/**
 * The official OpenAI and Anthropic SDKs, unmodified, with only base URL and key changed, through
 * gateway → NATS → router node → vendor simulator: text plain and streamed, a tool-call round
 * trip, the SDKs' own errors for 401, 403 and 429, an in-stream failure, and answers in the
 * caller's shape when another model family served them.
 */
import Anthropic, { type APIError as AnthropicAPIError } from '@anthropic-ai/sdk';
import OpenAI, { type APIError as OpenAIAPIError } from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { APP_KEY, NARROW_KEY, startGatewayFixture, type GatewayFixture } from './fixture.js';

let fx: GatewayFixture;
let openai: OpenAI;
let anthropic: Anthropic;
const CLAUDE_REGIONS = ['anthropic', 'bedrock/us-east-1', 'bedrock/us-west-2', 'vertex/us-east5'];
const WEATHER_TOOL = { name: 'get_weather', description: 'Weather in a city', schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };

beforeAll(async () => {
  fx = await startGatewayFixture();
  // maxRetries 0: a retrying SDK would hide the very statuses these tests check.
  openai = new OpenAI({ baseURL: `${fx.gateway.url}/v1`, apiKey: APP_KEY, maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: fx.gateway.url, apiKey: APP_KEY, maxRetries: 0 });
});
afterAll(async () => fx?.stop());
afterEach(() => fx.clearFaults());

describe('OpenAI SDK through the gateway', () => {
  it('gets a plain answer, with the request id and the deployment that served it in the headers', async () => {
    const { data, response, request_id } = await openai.chat.completions
      .create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'Hello, gateway' }] })
      .withResponse();
    expect(data.object).toBe('chat.completion');
    expect(data.choices[0]?.message.content).toMatch(/\w+/);
    expect(data.choices[0]?.finish_reason).toBe('stop');
    expect(data.usage?.completion_tokens).toBeGreaterThan(0);
    expect(request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.get('x-switchyard-deployment')).toMatch(/^gpt-4\.1@(openai|azure\/eastus)$/);
  });

  it('streams the same answer, with a usage chunk when include_usage asks', async () => {
    const messages = [{ role: 'user' as const, content: 'Stream to me' }];
    const whole = await openai.chat.completions.create({ model: 'gpt-4.1', messages });
    const stream = await openai.chat.completions.create({ model: 'gpt-4.1', messages, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish ??= chunk.choices[0]?.finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(whole.choices[0]?.message.content);
    expect(finish).toBe('stop');
    expect(usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('takes a tool call round trip', async () => {
    const tools = [{ type: 'function' as const, function: { name: WEATHER_TOOL.name, description: WEATHER_TOOL.description, parameters: WEATHER_TOOL.schema } }];
    const ask = { role: 'user' as const, content: 'What is the get_weather in Paris?' };
    const first = await openai.chat.completions.create({ model: 'gpt-4.1', messages: [ask], tools });
    const call = first.choices[0]?.message.tool_calls?.[0];
    expect(first.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call?.type === 'function' && call.function.name).toBe('get_weather');
    expect(call?.type === 'function' && JSON.parse(call.function.arguments)).toHaveProperty('city');
    const second = await openai.chat.completions.create({
      model: 'gpt-4.1',
      tools,
      messages: [ask, first.choices[0]!.message, { role: 'tool', tool_call_id: call!.id, content: '18 degrees and sunny' }],
    });
    expect(second.choices[0]?.finish_reason).toBe('stop');
    expect(second.choices[0]?.message.content).toMatch(/\w+/);
  });

  it('raises AuthenticationError for a wrong key and PermissionDeniedError for a model the key may not use', async () => {
    const stranger = new OpenAI({ baseURL: `${fx.gateway.url}/v1`, apiKey: 'sk-sy-not-a-key', maxRetries: 0 });
    const wrong = await stranger.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((wrong as OpenAIAPIError).code).toBe('invalid_api_key');
    const narrow = new OpenAI({ baseURL: `${fx.gateway.url}/v1`, apiKey: NARROW_KEY, maxRetries: 0 });
    const denied = await narrow.chat.completions.create({ model: 'claude-sonnet-4', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect((denied as OpenAIAPIError).code).toBe('model_not_allowed');
    const models = await narrow.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['gpt-4.1']);
  });

  it('raises RateLimitError with retry-after when Switchyard refuses for capacity', async () => {
    const ask = () => openai.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'one a minute' }] });
    await ask();
    const refused = await ask().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    expect((refused as OpenAIAPIError).code).toBe('rate_limited');
    expect(Number((refused as OpenAIAPIError).headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('ends a stream that fails after its first token with the in-stream error, which the SDK raises', async () => {
    for (const vendorRegion of ['openai', 'azure/eastus']) fx.fault({ vendorRegion, model: 'gpt-4.1', kind: 'stream_error', afterEvents: 3 });
    const stream = await openai.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'break midway' }], stream: true });
    let text = '';
    const failure = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect((failure as OpenAIAPIError).code).toBe('stream_interrupted');
    expect(text.length).toBeGreaterThan(0);
  });
});

describe('Anthropic SDK through the gateway', () => {
  it('gets a plain answer', async () => {
    const { data, response } = await anthropic.messages.create({ model: 'claude-sonnet-4', max_tokens: 128, messages: [{ role: 'user', content: 'Hello, gateway' }] }).withResponse();
    expect(data.type).toBe('message');
    expect(data.id).toMatch(/^msg_/);
    expect(data.content[0]?.type === 'text' && data.content[0].text).toMatch(/\w+/);
    expect(data.stop_reason).toBe('end_turn');
    expect(response.headers.get('request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.get('x-switchyard-model')).toBe('claude-sonnet-4');
  });

  it('streams the real event sequence, and the same text', async () => {
    const messages = [{ role: 'user' as const, content: 'Stream to me' }];
    const whole = await anthropic.messages.create({ model: 'claude-sonnet-4', max_tokens: 128, messages });
    const stream = anthropic.messages.stream({ model: 'claude-sonnet-4', max_tokens: 128, messages });
    const types: string[] = [];
    stream.on('streamEvent', (event) => types.push(event.type));
    const final = await stream.finalMessage();
    expect(final.content).toEqual(whole.content);
    expect(types[0]).toBe('message_start');
    expect(types.slice(-2)).toEqual(['message_delta', 'message_stop']);
    expect(types).toContain('content_block_start');
    // Fragments that reach the router in one network read travel as one delta, so how many the SDK
    // sees depends on timing; the text above is what must not change.
    expect(types.filter((t) => t === 'content_block_delta').length).toBeGreaterThanOrEqual(1);
  });

  it('takes a tool call round trip', async () => {
    const tools = [{ name: WEATHER_TOOL.name, description: WEATHER_TOOL.description, input_schema: WEATHER_TOOL.schema as Anthropic.Tool.InputSchema }];
    const ask = { role: 'user' as const, content: 'What is the get_weather in Paris?' };
    const first = await anthropic.messages.create({ model: 'claude-sonnet-4', max_tokens: 256, tools, messages: [ask] });
    const use = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
    expect(first.stop_reason).toBe('tool_use');
    expect(use?.name).toBe('get_weather');
    const second = await anthropic.messages.create({
      model: 'claude-sonnet-4',
      max_tokens: 256,
      tools,
      messages: [ask, { role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: use!.id, content: '18 degrees' }] }],
    });
    expect(second.stop_reason).toBe('end_turn');
    expect(second.content[0]?.type).toBe('text');
  });

  it('raises AuthenticationError, PermissionDeniedError and RateLimitError in its own shapes', async () => {
    const stranger = new Anthropic({ baseURL: fx.gateway.url, apiKey: 'sk-sy-not-a-key', maxRetries: 0 });
    const body = { model: 'claude-sonnet-4', max_tokens: 32, messages: [{ role: 'user' as const, content: 'hi' }] };
    const wrong = await stranger.messages.create(body).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((wrong as AnthropicAPIError).error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    const denied = await anthropic.messages.create(body, { headers: { 'x-switchyard-use-case': 'batch_translation' } }).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect((denied as AnthropicAPIError).error).toMatchObject({ error: { type: 'permission_error' } });
    const tiny = { ...body, model: 'tiny' };
    // The OpenAI test may already have spent tiny's one request this minute; either way the next is refused.
    await anthropic.messages.create(tiny).catch(() => undefined);
    const limited = await anthropic.messages.create(tiny).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(Anthropic.RateLimitError);
    expect(Number((limited as AnthropicAPIError).headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
});

// Last: the outages open breakers on the node, which later tests would feel.
describe('answers in the caller\'s shape whoever served them', () => {
  it('a Claude request that gpt-4.1 answers arrives in Anthropic shape', async () => {
    for (const vendorRegion of CLAUDE_REGIONS) fx.fault({ vendorRegion, model: 'claude-sonnet-4', kind: 'outage' });
    const { data, response } = await anthropic.messages.create({ model: 'claude-sonnet-4', max_tokens: 128, messages: [{ role: 'user', content: 'Fail over, please' }] }).withResponse();
    expect(response.headers.get('x-switchyard-deployment')).toMatch(/^gpt-4\.1@/);
    expect(data.model).toBe('gpt-4.1');
    expect(data.type).toBe('message');
    expect(data.content[0]?.type === 'text' && data.content[0].text).toMatch(/\w+/);
    expect(data.stop_reason).toBe('end_turn');
  });

  it('an OpenAI-shape request that Claude answers arrives in OpenAI shape, streamed too', async () => {
    for (const vendorRegion of ['openai', 'azure/eastus']) fx.fault({ vendorRegion, model: 'gpt-4.1-mini', kind: 'outage' });
    const { data, response } = await openai.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'Fail over, please' }] }).withResponse();
    expect(response.headers.get('x-switchyard-deployment')).toMatch(/^claude-sonnet-4@/);
    expect(data.object).toBe('chat.completion');
    expect(data.model).toBe('claude-sonnet-4');
    expect(data.choices[0]?.finish_reason).toBe('stop');
    const stream = await openai.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'Fail over, please' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(data.choices[0]?.message.content);
  });
});
