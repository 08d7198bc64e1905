import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Config, VendorRegion } from '../../../src/config/index.js';
import type { CanonicalRequest } from '../../../src/domain/index.js';
import { FaultSchema, fullAnswerTokens, type FaultSpecInput, type RunningSimulator } from '../../../src/simulator/index.js';
import { createOpenAIAdapter } from '../../../src/vendors/openai/adapter.js';
import { createVendorDispatcher, type VendorAdapter } from '../../../src/vendors/index.js';
import { collectStream, vendorFailure, replayServer, type ReplayServer } from '../../helpers/vendor-calls.js';
import { simulatorSecrets, startTestSimulator } from '../../helpers/simulator.js';

const request: CanonicalRequest = {
  model: 'gpt-4.1',
  maxTokens: 200,
  messages: [{ role: 'user', content: [{ type: 'text', text: 'What does a switchyard do?' }] }],
};

const toolRequest: CanonicalRequest = {
  ...request,
  tools: [{ name: 'lookup_track', description: 'Finds a track', inputSchema: { type: 'object', properties: { track: { type: 'string' } }, required: ['track'] } }],
  toolChoice: { type: 'any' },
};

let simulator: RunningSimulator;
let config: Config;
let adapter: VendorAdapter;
const dispatcher = createVendorDispatcher({ keepAliveTimeoutMs: 10 });

const deployment = () => config.vendorRegions.openai!.deployments['gpt-4.1']!;
const expectedText = () => fullAnswerTokens(request, simulator.simulation.seed).join('');
const inject = (fault: FaultSpecInput) =>
  simulator.simulation.faults.add(FaultSchema.parse({ vendorRegion: 'openai', durationMs: 60_000, ...fault }));


function streamFailure(on: VendorAdapter = adapter): ReturnType<typeof vendorFailure> {
  return vendorFailure((async () => collectStream(await on.stream(request, { deployment: deployment() })))());
}

beforeAll(async () => {
  ({ simulator, config } = await startTestSimulator());
  adapter = createOpenAIAdapter(config.vendorRegions.openai!, { dispatcher, secrets: simulatorSecrets(simulator) });
});
afterAll(async () => {
  await simulator.close();
  await dispatcher.close();
});
beforeEach(() => simulator.simulation.faults.clear());

describe('openai adapter against the simulator', () => {
  it('completes a request with the deterministic answer, usage and capacity hints from x-ratelimit-*', async () => {
    const { response, metrics } = await adapter.complete(request, { deployment: deployment() });
    expect(response.content).toEqual([{ type: 'text', text: expectedText() }]);
    expect(response.stopReason).toBe('end_turn');
    expect(response.id).toMatch(/^chatcmpl-/);
    expect(metrics.usage?.outputTokens).toBe(fullAnswerTokens(request, simulator.simulation.seed).length);
    expect(metrics.capacity.requestsLimit).toBe(5000);
    expect(metrics.capacity.tokensLimit).toBe(2_000_000);
    // The reset comes as a Go duration ("59.998s"); reading it proves the format round-trips.
    expect(metrics.capacity.requestsResetMs).toBeGreaterThan(50_000);
    expect(simulator.log.list('openai').at(-1)?.path).toBe('/chat/completions');
  });

  it('streams the same text in order, with the usage chunk before exactly one end', async () => {
    const stream = await adapter.stream(request, { deployment: deployment() });
    const { text, events } = await collectStream(stream);
    expect(text).toBe(expectedText());
    expect(events[0]?.type).toBe('start');
    expect(events.filter((e) => e.type === 'end')).toHaveLength(1);
    expect(events.at(-1)).toEqual({ type: 'end', stopReason: 'end_turn' });
    expect(stream.metrics.timeToFirstTokenMs).toBeDefined();
    expect(stream.metrics.usage?.inputTokens).toBeGreaterThan(0);
    expect(stream.metrics.usage?.outputTokens).toBe(fullAnswerTokens(request, simulator.simulation.seed).length);
  });

  it('answers a required tool call, plain and streamed', async () => {
    const { response } = await adapter.complete(toolRequest, { deployment: deployment() });
    expect(response.stopReason).toBe('tool_use');
    expect(response.content).toEqual([expect.objectContaining({ type: 'tool_call', name: 'lookup_track', arguments: { track: expect.any(String) } })]);
    const { events } = await collectStream(await adapter.stream(toolRequest, { deployment: deployment() }));
    const argumentsJson = events.map((e) => (e.type === 'delta' && e.delta.type === 'tool_call' ? e.delta.argumentsJson : '')).join('');
    expect(JSON.parse(argumentsJson)).toEqual((response.content[0] as { arguments: unknown }).arguments);
    expect(events.at(-1)).toEqual({ type: 'end', stopReason: 'tool_use' });
  });

  it.each([
    ['outage 503', { kind: 'outage', mode: '503' }, 'vendor_unavailable', 'vendor_region'],
    ['outage 500', { kind: 'outage', mode: '500' }, 'vendor_unavailable', 'deployment'],
    // OpenAI's overload is a 503 server_error with no code of its own, so it reads as unavailable.
    ['overload', { kind: 'overload' }, 'vendor_unavailable', 'vendor_region'],
  ] as const)('classifies %s before any answer as a fault', async (_name, fault, code, scope) => {
    inject(fault);
    const error = await vendorFailure(adapter.complete(request, { deployment: deployment() }));
    expect(error).toMatchObject({ code, failureClass: 'fault', scope, retryable: true, vendorCode: 'server_error' });
  });

  it('classifies a throttle storm as capacity, with retry-after and the OpenAI code', async () => {
    inject({ kind: 'throttle', retryAfterS: 3 });
    const error = await vendorFailure(adapter.complete(request, { deployment: deployment() }));
    expect(error).toMatchObject({ code: 'vendor_rate_limited', failureClass: 'capacity', status: 429, vendorCode: 'rate_limit_exceeded', retryAfterMs: 3000 });
  });

  it('classifies a refused connection as a vendor-region fault', async () => {
    inject({ kind: 'outage', mode: 'refuse' });
    await expect.poll(async () => (await vendorFailure(adapter.complete(request, { deployment: deployment() }))).code).toBe('vendor_connection');
    const error = await vendorFailure(adapter.complete(request, { deployment: deployment() }));
    expect(error.scope).toBe('vendor_region');
    simulator.simulation.faults.clear();
    await expect.poll(async () => (await adapter.complete(request, { deployment: deployment() })).response.stopReason).toBe('end_turn');
  });

  it.each([
    ['overloaded', 'vendor_stream_error', 'fault'],
    ['server_error', 'vendor_stream_error', 'fault'],
    ['rate_limited', 'vendor_rate_limited', 'capacity'],
  ] as const)('classifies an in-stream %s error after a 200', async (kind, code, failureClass) => {
    inject({ kind: 'stream_error', error: kind, afterEvents: 4 });
    const error = await streamFailure();
    expect(error.code).toBe(code);
    expect(error.failureClass).toBe(failureClass);
  });

  it('treats a stream cut mid-way as a truncated fault, never a success', async () => {
    inject({ kind: 'cut', afterEvents: 5 });
    const error = await streamFailure();
    expect(error).toMatchObject({ code: 'vendor_stream_truncated', failureClass: 'fault', retryable: true });
  });

  it('classifies a malformed stream chunk and a malformed body', async () => {
    inject({ kind: 'malformed', afterEvents: 4 });
    expect((await streamFailure()).code).toBe('vendor_malformed');
    const plain = await vendorFailure(adapter.complete(request, { deployment: deployment() }));
    expect(plain.code).toBe('vendor_malformed');
    expect(plain.excerpt).toContain('chatcmpl-');
  });

  it('gives up on a hung vendor at the first-byte limit', async () => {
    inject({ kind: 'hang' });
    const started = Date.now();
    const error = await vendorFailure(adapter.complete(request, { deployment: deployment(), firstByteTimeoutMs: 200 }));
    expect(error).toMatchObject({ code: 'vendor_timeout', failureClass: 'fault' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('still answers through a brownout and a slow drip', async () => {
    inject({ kind: 'brownout', factor: 10 });
    inject({ kind: 'drip', intervalMs: 2 });
    const { text } = await collectStream(await adapter.stream(request, { deployment: deployment() }));
    expect(text).toBe(expectedText());
  });

  it('fails a stream that drips slower than the idle limit as a timeout', async () => {
    inject({ kind: 'drip', intervalMs: 400 });
    const error = await vendorFailure((async () => collectStream(await adapter.stream(request, { deployment: deployment(), idleTimeoutMs: 100 })))());
    expect(error).toMatchObject({ code: 'vendor_timeout', failureClass: 'fault' });
  });

  it('counts the idle limit only while a chunk is awaited: a reader that pauses longer is not cut off', async () => {
    // Chunks every 20 ms, well within the 50 ms limit; the reader takes 80 ms over each one.
    inject({ kind: 'drip', intervalMs: 20 });
    const short = { ...request, maxTokens: 8 };
    const unhurried = await collectStream(await adapter.stream(short, { deployment: deployment() }));
    const stream = await adapter.stream(short, { deployment: deployment(), idleTimeoutMs: 50 });
    let text = '';
    let deltas = 0;
    for await (const event of stream) {
      if (event.type === 'delta' && event.delta.type === 'text') {
        text += event.delta.text;
        deltas++;
      }
      await new Promise((resolve) => setTimeout(resolve, 80));
    }
    // More than one delta: the chunks came apart, so the reader paused while more were on their way.
    expect(deltas).toBeGreaterThanOrEqual(2);
    expect(text).toBe(unhurried.text);
  });

  it('honours the deadline, and returns an invalid request to the caller with the field named', async () => {
    inject({ kind: 'hang' });
    const deadline = await vendorFailure(adapter.complete(request, { deployment: deployment(), deadline: Date.now() + 150 }));
    expect(deadline.code).toBe('vendor_timeout');
    simulator.simulation.faults.clear();
    const rejected = await vendorFailure(adapter.complete({ ...request, maxTokens: 0 }, { deployment: deployment() }));
    expect(rejected).toMatchObject({ code: 'vendor_rejected', failureClass: 'caller', retryable: false, status: 400 });
    expect(rejected.message).toContain('max_tokens');
  });

  it('classifies a wrong key as an auth fault of the vendor-region', async () => {
    const wrong = createOpenAIAdapter(config.vendorRegions.openai!, { dispatcher, secrets: () => Promise.resolve('sk-wrong-key-123456') });
    const error = await vendorFailure(wrong.complete(request, { deployment: deployment() }));
    expect(error).toMatchObject({ code: 'vendor_auth', scope: 'vendor_region', persistent: true, status: 401, vendorCode: 'invalid_api_key' });
  });

  it('classifies an unknown model as not found for that deployment', async () => {
    const error = await vendorFailure(adapter.complete(request, { deployment: { ...deployment(), vendorModelId: 'gpt-nonexistent' } }));
    expect(error).toMatchObject({ code: 'vendor_not_found', scope: 'deployment', persistent: true, vendorCode: 'model_not_found' });
  });

  it('closes the upstream connection when the caller cancels mid-stream', async () => {
    inject({ kind: 'drip', intervalMs: 50 });
    const controller = new AbortController();
    const id = deployment().id;
    const before = simulator.simulation.stats.snapshot()[id]?.closedByClient ?? 0;
    const stream = await adapter.stream(request, { deployment: deployment(), signal: controller.signal });
    const failed = vendorFailure(
      (async () => {
        for await (const event of stream) if (event.type === 'delta') controller.abort();
      })(),
    );
    expect((await failed).code).toBe('cancelled');
    await expect.poll(() => simulator.simulation.stats.snapshot()[id]?.closedByClient ?? 0, { timeout: 2_000, interval: 5 }).toBe(before + 1);
  });
});

const fixture = (path: string) => readFileSync(new URL(`../../fixtures/${path}`, import.meta.url), 'utf8');
const SSE = { 'content-type': 'text/event-stream' };
const JSON_TYPE = { 'content-type': 'application/json' };

describe('openai adapter on recorded replies', () => {
  let replay: ReplayServer;
  let recorded: VendorAdapter;
  beforeAll(async () => {
    replay = await replayServer('/v1');
    const vendorRegion: VendorRegion = { ...config.vendorRegions.openai!, baseUrl: replay.url };
    recorded = createOpenAIAdapter(vendorRegion, { dispatcher, secrets: () => Promise.resolve('sk-recorded') });
  });
  afterAll(() => replay.close());

  it('classifies a recorded insufficient_quota 429 as quota exhausted, not a rate limit', async () => {
    replay.reply(429, JSON_TYPE, fixture('openai/error-insufficient-quota.json'));
    const error = await vendorFailure(recorded.complete(request, { deployment: deployment() }));
    expect(error).toMatchObject({ code: 'vendor_quota_exhausted', failureClass: 'quota_exhausted', persistent: true, vendorCode: 'insufficient_quota' });
    const sent = replay.received.at(-1)!;
    expect(sent.url).toBe('/v1/chat/completions');
    expect(sent.headers.authorization).toBe('Bearer sk-recorded');
  });

  it('asks for usage in streams and decodes a recorded stream', async () => {
    replay.reply(200, SSE, fixture('openai/stream-text.sse'));
    const stream = await recorded.stream(request, { deployment: deployment() });
    const { text, events } = await collectStream(stream);
    expect(text).toBe('Hello');
    expect(events.at(-1)).toEqual({ type: 'end', stopReason: 'end_turn' });
    expect(stream.metrics.usage).toMatchObject({ inputTokens: 9, outputTokens: 2 });
    expect(JSON.parse(replay.received.at(-1)!.body)).toMatchObject({ stream: true, stream_options: { include_usage: true }, model: 'gpt-4.1-2025-04-14' });
  });

  it('classifies a recorded mid-stream server_error as a stream fault', async () => {
    replay.reply(200, SSE, fixture('openai/stream-server-error.sse'));
    expect(await streamFailure(recorded)).toMatchObject({ code: 'vendor_stream_error', vendorCode: 'server_error', failureClass: 'fault' });
  });

  const chunk = (delta: object, finish: string | null) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-r', object: 'chat.completion.chunk', created: 1, model: 'gpt-4.1', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

  it('treats [DONE] without a finish_reason as truncated', async () => {
    replay.reply(200, SSE, `${chunk({ role: 'assistant', content: 'Hel' }, null)}data: [DONE]\n\n`);
    const error = await streamFailure(recorded);
    expect(error.code).toBe('vendor_stream_truncated');
    expect(error.message).toContain('finish_reason before [DONE]');
  });

  it('treats a body that ends before [DONE] as truncated, even after the finish_reason', async () => {
    replay.reply(200, SSE, `${chunk({ role: 'assistant', content: 'Hello' }, null)}${chunk({}, 'stop')}`);
    expect((await streamFailure(recorded)).code).toBe('vendor_stream_truncated');
  });

  it('treats an SSE `event: error` line as an in-stream error, whatever its data', async () => {
    replay.reply(200, SSE, `${chunk({ role: 'assistant', content: 'Hel' }, null)}event: error\ndata: {"message":"upstream went away"}\n\n`);
    const error = await streamFailure(recorded);
    expect(error).toMatchObject({ code: 'vendor_stream_error', failureClass: 'fault' });
    expect(error.message).toContain('upstream went away');
    replay.reply(200, SSE, `event: error\ndata: {"error":{"message":"slow down","type":"tokens","code":"rate_limit_exceeded"}}\n\n`);
    expect(await streamFailure(recorded)).toMatchObject({ code: 'vendor_rate_limited', failureClass: 'capacity' });
  });

  it('classifies a 200 that is not the promised content type as malformed', async () => {
    replay.reply(200, { 'content-type': 'text/html' }, '<html>proxy login</html>');
    expect((await vendorFailure(recorded.complete(request, { deployment: deployment() }))).code).toBe('vendor_malformed');
  });
});

describe('the simulated OpenAI API on the wire', () => {
  const url = (path = '/v1/chat/completions') => `${simulator.endpoints().openai}${path}`;
  const bearer = () => ({ authorization: `Bearer ${simulator.credentials.apiKey}`, 'content-type': 'application/json' });
  const body = { model: 'gpt-4.1-2025-04-14', messages: [{ role: 'user', content: 'Hi' }] };
  const post = async (payload: unknown, headers: Record<string, string> = bearer(), path?: string) => {
    const response = await fetch(url(path), { method: 'POST', headers, body: typeof payload === 'string' ? payload : JSON.stringify(payload) });
    return { status: response.status, headers: response.headers, text: await response.text() };
  };
  const errorOf = (text: string) => (JSON.parse(text) as { error: { message: string; type: string | null; param: string | null; code: string | null } }).error;

  it('refuses a missing key and a wrong key with 401, naming invalid_api_key for the wrong one', async () => {
    const missing = await post(body, { 'content-type': 'application/json' });
    expect(missing.status).toBe(401);
    expect(errorOf(missing.text)).toMatchObject({ type: 'invalid_request_error', code: null });
    const wrong = await post(body, { ...bearer(), authorization: 'Bearer sk-wrong-key-1234567890' });
    expect(wrong.status).toBe(401);
    expect(errorOf(wrong.text).code).toBe('invalid_api_key');
    expect(wrong.text).not.toContain('sk-wrong-key-1234567890');
  });

  it('answers an unknown path with 404 Invalid URL', async () => {
    const response = await post(body, bearer(), '/v1/completionz');
    expect(response.status).toBe(404);
    expect(errorOf(response.text).message).toContain('Invalid URL (POST /v1/completionz)');
  });

  it.each([
    ['a body that is not JSON', '{"model":', null, null],
    ['a missing field', { model: 'gpt-4.1-2025-04-14' }, 'messages', 'missing_required_parameter'],
    ['an unknown field', { ...body, max_token: 5 }, 'max_token', 'unknown_parameter'],
    ['a field of the wrong type', { ...body, messages: [{ role: 'user', content: 5 }] }, 'messages[0].content', 'invalid_value'],
  ])('rejects %s with 400 invalid_request_error naming the field', async (_name, payload, param, code) => {
    const response = await post(payload);
    expect(response.status).toBe(400);
    expect(errorOf(response.text)).toMatchObject({ type: 'invalid_request_error', param, code });
    if (param !== null) expect(errorOf(response.text).message).toContain(param);
  });

  it('answers an unknown model with 404 model_not_found', async () => {
    const response = await post({ ...body, model: 'gpt-9' });
    expect(response.status).toBe(404);
    expect(errorOf(response.text).code).toBe('model_not_found');
  });

  it('sends x-ratelimit-* with Go-style reset durations', async () => {
    const response = await post(body);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-ratelimit-limit-requests')).toBe('5000');
    expect(response.headers.get('x-ratelimit-reset-requests')).toMatch(/^(\d+h)?(\d+m)?(\d+(\.\d+)?s|\d+ms)$/);
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
  });

  it('sends the usage chunk only when stream_options.include_usage asks for it', async () => {
    const chunksOf = (text: string) => text.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => e.slice(6));
    const plain = chunksOf((await post({ ...body, stream: true })).text);
    expect(plain.at(-1)).toBe('[DONE]');
    expect(plain.slice(0, -1).every((c) => !('usage' in (JSON.parse(c) as object)))).toBe(true);
    const withUsage = chunksOf((await post({ ...body, stream: true, stream_options: { include_usage: true } })).text);
    const usageChunk = JSON.parse(withUsage.at(-2)!) as { choices: unknown[]; usage: { completion_tokens: number } };
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage.completion_tokens).toBeGreaterThan(0);
    expect(withUsage.slice(0, -2).every((c) => (JSON.parse(c) as { usage: unknown }).usage === null)).toBe(true);
  });

  it('writes a 429 rate_limit_exceeded with retry-after while throttled', async () => {
    inject({ kind: 'throttle', retryAfterS: 2 });
    const response = await post(body);
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('2');
    expect(errorOf(response.text)).toMatchObject({ code: 'rate_limit_exceeded' });
  });
});
