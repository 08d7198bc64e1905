/**
 * The official `openai` SDK (its OpenAI and AzureOpenAI clients) against the simulator: if the
 * simulator were not wire-faithful, the vendor's own client would say so.
 */
import OpenAI, { AzureOpenAI, RateLimitError } from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FaultSchema, fullAnswerTokens, type RunningSimulator } from '../../../src/simulator/index.js';
import { startTestSimulator } from '../../helpers/simulator.js';

let simulator: RunningSimulator;

beforeAll(async () => {
  ({ simulator } = await startTestSimulator());
});
afterAll(() => simulator.close());
beforeEach(() => simulator.simulation.faults.clear());

const question = 'Which signal turns green first?';
/** The simulator answers by conversation, so the text any client should get is known in advance. */
const expectedText = () =>
  fullAnswerTokens({ model: 'gpt-4.1', maxTokens: 200, messages: [{ role: 'user', content: [{ type: 'text', text: question }] }] }, simulator.simulation.seed).join('');

const tool: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'switch_track',
    description: 'Moves a train to another track',
    parameters: { type: 'object', properties: { track: { type: 'integer' } }, required: ['track'] },
  },
};

const clients = {
  // maxRetries: 0, so a 429 reaches the test instead of being waited out and retried.
  openai: () => ({
    client: new OpenAI({ baseURL: `${simulator.endpoints().openai}/v1`, apiKey: simulator.credentials.apiKey, maxRetries: 0 }),
    model: 'gpt-4.1-2025-04-14',
    vendorRegion: 'openai',
    rateLimitCode: 'rate_limit_exceeded',
  }),
  azure: () => ({
    client: new AzureOpenAI({
      endpoint: simulator.endpoints()['azure/eastus'],
      apiKey: simulator.credentials.apiKey,
      apiVersion: '2024-10-21',
      deployment: 'gpt-4.1',
      maxRetries: 0,
    }),
    // The deployment in the URL decides; the SDK still wants a model in the body's type.
    model: 'gpt-4.1',
    vendorRegion: 'azure/eastus',
    // Azure puts the status in `code`, as a string.
    rateLimitCode: '429',
  }),
};

describe.each(Object.entries(clients))('the official %s SDK client against the simulator', (_name, make) => {
  const params = (model: string): { model: string; max_tokens: number; messages: ChatCompletionMessageParam[] } => ({
    model,
    max_tokens: 200,
    messages: [{ role: 'user', content: question }],
  });

  it('gets the deterministic answer in a plain completion', async () => {
    const { client, model } = make();
    const completion = await client.chat.completions.create(params(model));
    expect(completion.choices[0]?.message.content).toBe(expectedText());
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('streams the same answer, with usage when asked', async () => {
    const { client, model } = make();
    const stream = await client.chat.completions.create({ ...params(model), stream: true, stream_options: { include_usage: true } });
    let text = '';
    let finish: string | null | undefined;
    let completionTokens = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish ??= chunk.choices[0]?.finish_reason;
      if (chunk.usage) completionTokens = chunk.usage.completion_tokens;
    }
    expect(text).toBe(expectedText());
    expect(finish).toBe('stop');
    expect(completionTokens).toBeGreaterThan(0);
  });

  it('gets a tool call when tool_choice is required, plain and through the streaming helper', async () => {
    const { client, model } = make();
    const completion = await client.chat.completions.create({ ...params(model), tools: [tool], tool_choice: 'required' });
    const call = completion.choices[0]?.message.tool_calls?.[0];
    expect(call?.type).toBe('function');
    if (call?.type !== 'function') throw new Error('expected a function tool call');
    expect(call.function.name).toBe('switch_track');
    expect(JSON.parse(call.function.arguments)).toEqual({ track: 1 });

    // The SDK's own accumulator rebuilds the call from the streamed fragments.
    const streamed = await client.chat.completions
      .stream({ ...params(model), tools: [tool], tool_choice: { type: 'function', function: { name: 'switch_track' } } })
      .finalChatCompletion();
    const streamedCall = streamed.choices[0]?.message.tool_calls?.[0];
    if (streamedCall?.type !== 'function') throw new Error('expected a streamed function tool call');
    expect(streamedCall.function).toEqual({ name: 'switch_track', arguments: call.function.arguments });
    expect(streamedCall.id).toBe(call.id);
  });

  it('raises its RateLimitError on a throttled 429', async () => {
    const { client, model, vendorRegion, rateLimitCode } = make();
    simulator.simulation.faults.add(FaultSchema.parse({ vendorRegion, kind: 'throttle', retryAfterS: 5, durationMs: 60_000 }));
    const error: unknown = await client.chat.completions.create(params(model)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    const rateLimit = error as RateLimitError;
    expect(rateLimit.status).toBe(429);
    expect(rateLimit.headers.get('retry-after')).toBe('5');
    expect(rateLimit.code).toBe(rateLimitCode);
  });
});

describe('the official openai SDK client lists the simulated models', () => {
  it('as OpenAI lists them, with its bearer key and not without it', async () => {
    const { client } = clients.openai();
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toEqual(['gpt-4.1-2025-04-14']);
    const wrong = new OpenAI({ baseURL: `${simulator.endpoints().openai}/v1`, apiKey: 'sk-wrong', maxRetries: 0 });
    await expect(wrong.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });
});
