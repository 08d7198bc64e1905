/** The official Anthropic SDK, unmodified, pointed at the simulator: proof the simulator speaks the real protocol. */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultSchema, fullAnswerTokens, type RunningSimulator } from '../../../src/simulator/index.js';
import { startTestSimulator } from '../../helpers/simulator.js';

let simulator: RunningSimulator;
let client: Anthropic;
const prompt = 'Tell me about failover.';
const model = 'claude-sonnet-4-20250514';

beforeAll(async () => {
  ({ simulator } = await startTestSimulator());
  client = new Anthropic({ apiKey: simulator.credentials.apiKey, baseURL: simulator.endpoints().anthropic, maxRetries: 0 });
});
afterAll(() => simulator.close());

const expected = () =>
  fullAnswerTokens({ model, maxTokens: 256, messages: [{ role: 'user', content: [{ type: 'text', text: prompt }] }] }, simulator.simulation.seed).join('');

describe('@anthropic-ai/sdk against the simulator', () => {
  it('lists the models the vendor-region serves, as Anthropic does', async () => {
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toEqual([model]);
    const wrong = new Anthropic({ apiKey: 'sk-wrong', baseURL: simulator.endpoints().anthropic, maxRetries: 0 });
    await expect(wrong.models.list()).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
  });

  it('creates a message', async () => {
    const message = await client.messages.create({ model, max_tokens: 256, messages: [{ role: 'user', content: prompt }] });
    expect(message.type).toBe('message');
    expect(message.content).toEqual([{ type: 'text', text: expected() }]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.output_tokens).toBeGreaterThan(0);
  });

  it('streams a message the SDK assembles to the same text', async () => {
    const stream = client.messages.stream({ model, max_tokens: 256, messages: [{ role: 'user', content: prompt }] });
    const message = await stream.finalMessage();
    expect(message.content).toEqual([{ type: 'text', text: expected() }]);
    expect(message.stop_reason).toBe('end_turn');
  });

  it('calls a tool the request forces', async () => {
    const message = await client.messages.create({
      model,
      max_tokens: 256,
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }],
      tool_choice: { type: 'tool', name: 'get_weather' },
    });
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content[0]).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { city: 'Weather in Paris?' } });
  });

  it('raises its RateLimitError on a 429, with retry-after', async () => {
    const fault = simulator.simulation.faults.add(FaultSchema.parse({ vendorRegion: 'anthropic', kind: 'throttle', retryAfterS: 4 }));
    try {
      const error = await client.messages.create({ model, max_tokens: 16, messages: [{ role: 'user', content: prompt }] }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Anthropic.RateLimitError);
      expect((error as InstanceType<typeof Anthropic.RateLimitError>).headers.get('retry-after')).toBe('4');
    } finally {
      simulator.simulation.faults.remove(fault.id);
    }
  });

  it('raises its overloaded and authentication errors', async () => {
    const fault = simulator.simulation.faults.add(FaultSchema.parse({ vendorRegion: 'anthropic', kind: 'overload' }));
    try {
      const overloaded = await client.messages.create({ model, max_tokens: 16, messages: [{ role: 'user', content: prompt }] }).catch((e: unknown) => e);
      expect(overloaded).toBeInstanceOf(Anthropic.InternalServerError);
      expect((overloaded as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
    } finally {
      simulator.simulation.faults.remove(fault.id);
    }
    const wrong = new Anthropic({ apiKey: 'sk-wrong', baseURL: simulator.endpoints().anthropic, maxRetries: 0 });
    await expect(wrong.messages.create({ model, max_tokens: 16, messages: [{ role: 'user', content: prompt }] })).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
  });

  it('surfaces an in-stream overloaded error as an APIError', async () => {
    const fault = simulator.simulation.faults.add(FaultSchema.parse({ vendorRegion: 'anthropic', kind: 'stream_error', afterEvents: 4 }));
    try {
      const stream = client.messages.stream({ model, max_tokens: 256, messages: [{ role: 'user', content: prompt }] });
      await expect(stream.finalMessage()).rejects.toThrow(/overloaded/i);
    } finally {
      simulator.simulation.faults.remove(fault.id);
    }
  });
});
