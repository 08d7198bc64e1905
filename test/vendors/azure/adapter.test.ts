import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Config, VendorRegion } from '../../../src/config/index.js';
import type { CanonicalRequest } from '../../../src/domain/index.js';
import { FaultSchema, fullAnswerTokens, type FaultSpecInput, type RunningSimulator } from '../../../src/simulator/index.js';
import { createAzureAdapter } from '../../../src/vendors/azure/adapter.js';
import { createVendorDispatcher, type VendorAdapter } from '../../../src/vendors/index.js';
import { collectStream, vendorFailure, replayServer, type ReplayServer } from '../../helpers/vendor-calls.js';
import { simulatorSecrets, startTestSimulator } from '../../helpers/simulator.js';

const request: CanonicalRequest = {
  model: 'gpt-4.1',
  maxTokens: 200,
  messages: [{ role: 'user', content: [{ type: 'text', text: 'Which track is free?' }] }],
};

let simulator: RunningSimulator;
let config: Config;
let adapter: VendorAdapter;
const dispatcher = createVendorDispatcher({ keepAliveTimeoutMs: 10 });

const REGION = 'azure/eastus';
const deployment = () => config.vendorRegions[REGION]!.deployments['gpt-4.1']!;
const expectedText = () => fullAnswerTokens(request, simulator.simulation.seed).join('');
const inject = (fault: FaultSpecInput) => simulator.simulation.faults.add(FaultSchema.parse({ vendorRegion: REGION, durationMs: 60_000, ...fault }));


function streamFailure(on: VendorAdapter = adapter): ReturnType<typeof vendorFailure> {
  return vendorFailure((async () => collectStream(await on.stream(request, { deployment: deployment() })))());
}

beforeAll(async () => {
  ({ simulator, config } = await startTestSimulator());
  adapter = createAzureAdapter(config.vendorRegions[REGION]!, { dispatcher, secrets: simulatorSecrets(simulator) });
});
afterAll(async () => {
  await simulator.close();
  await dispatcher.close();
});
beforeEach(() => simulator.simulation.faults.clear());

describe('azure adapter against the simulator', () => {
  it('completes through the per-deployment URL with the api-key header', async () => {
    const { response, metrics } = await adapter.complete(request, { deployment: deployment() });
    expect(response.content).toEqual([{ type: 'text', text: expectedText() }]);
    expect(response.stopReason).toBe('end_turn');
    expect(metrics.usage?.outputTokens).toBe(fullAnswerTokens(request, simulator.simulation.seed).length);
    expect(metrics.capacity.requestsLimit).toBe(1000);
    const sent = simulator.log.list(REGION).at(-1)!;
    expect(sent.path).toBe('/openai/deployments/gpt-4.1/chat/completions?api-version=2024-10-21');
    expect(sent.headers['api-key']).toBeDefined();
    expect(sent.headers.authorization).toBeUndefined();
  });

  it('streams past the empty-choices first chunk to the same text and exactly one end', async () => {
    const stream = await adapter.stream(request, { deployment: deployment() });
    const { text, events } = await collectStream(stream);
    expect(text).toBe(expectedText());
    expect(events[0]).toMatchObject({ type: 'start', id: expect.stringMatching(/^chatcmpl-/) });
    expect(events.filter((e) => e.type === 'end')).toHaveLength(1);
    expect(events.at(-1)).toEqual({ type: 'end', stopReason: 'end_turn' });
    expect(stream.metrics.usage?.inputTokens).toBeGreaterThan(0);
  });

  it.each([
    ['outage 503', { kind: 'outage', mode: '503' }, 'vendor_region', 'server_error'],
    ['outage 500', { kind: 'outage', mode: '500' }, 'deployment', 'server_error'],
    ['overload', { kind: 'overload' }, 'vendor_region', 'ServiceUnavailable'],
  ] as const)('classifies %s before any answer as a fault', async (_name, fault, scope, vendorCode) => {
    inject(fault);
    const error = await vendorFailure(adapter.complete(request, { deployment: deployment() }));
    expect(error).toMatchObject({ code: 'vendor_unavailable', failureClass: 'fault', scope, retryable: true, vendorCode });
  });

  it('classifies a throttle storm (code "429") as capacity, waiting as retry-after-ms says', async () => {
    inject({ kind: 'throttle', retryAfterS: 3 });
    const error = await vendorFailure(adapter.complete(request, { deployment: deployment() }));
    expect(error).toMatchObject({ code: 'vendor_rate_limited', failureClass: 'capacity', status: 429, vendorCode: '429', retryAfterMs: 3000 });
  });

  it('classifies a refused connection as a vendor-region fault', async () => {
    inject({ kind: 'outage', mode: 'refuse' });
    await expect.poll(async () => (await vendorFailure(adapter.complete(request, { deployment: deployment() }))).code).toBe('vendor_connection');
    expect((await vendorFailure(adapter.complete(request, { deployment: deployment() }))).scope).toBe('vendor_region');
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
    expect(await streamFailure()).toMatchObject({ code: 'vendor_stream_truncated', failureClass: 'fault', retryable: true });
  });

  it('classifies a malformed stream chunk and a malformed body', async () => {
    inject({ kind: 'malformed', afterEvents: 4 });
    expect((await streamFailure()).code).toBe('vendor_malformed');
    const plain = await vendorFailure(adapter.complete(request, { deployment: deployment() }));
    expect(plain.code).toBe('vendor_malformed');
    expect(plain.excerpt).toContain('chatcmpl-');
  });

  it('gives up on a hung vendor at the first-byte limit, and at the deadline', async () => {
    inject({ kind: 'hang' });
    const started = Date.now();
    expect((await vendorFailure(adapter.complete(request, { deployment: deployment(), firstByteTimeoutMs: 200 }))).code).toBe('vendor_timeout');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await vendorFailure(adapter.complete(request, { deployment: deployment(), deadline: Date.now() + 150 }))).code).toBe('vendor_timeout');
  });

  it('still answers through a brownout and a slow drip', async () => {
    inject({ kind: 'brownout', factor: 10 });
    inject({ kind: 'drip', intervalMs: 2 });
    const { text } = await collectStream(await adapter.stream(request, { deployment: deployment() }));
    expect(text).toBe(expectedText());
  });

  it('returns an invalid request to the caller', async () => {
    const rejected = await vendorFailure(adapter.complete({ ...request, maxTokens: 0 }, { deployment: deployment() }));
    expect(rejected).toMatchObject({ code: 'vendor_rejected', failureClass: 'caller', retryable: false, status: 400 });
  });

  it('classifies a wrong key (code "401") as an auth fault of the vendor-region', async () => {
    const wrong = createAzureAdapter(config.vendorRegions[REGION]!, { dispatcher, secrets: () => Promise.resolve('wrong-key') });
    const error = await vendorFailure(wrong.complete(request, { deployment: deployment() }));
    expect(error).toMatchObject({ code: 'vendor_auth', scope: 'vendor_region', persistent: true, status: 401, vendorCode: '401' });
  });

  it('classifies a missing deployment as DeploymentNotFound for that deployment', async () => {
    const error = await vendorFailure(adapter.complete(request, { deployment: { ...deployment(), vendorModelId: 'gpt-gone' } }));
    expect(error).toMatchObject({ code: 'vendor_not_found', scope: 'deployment', persistent: true, vendorCode: 'DeploymentNotFound' });
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
const JSON_TYPE = { 'content-type': 'application/json' };

describe('azure adapter on recorded replies', () => {
  let replay: ReplayServer;
  let recorded: VendorAdapter;
  beforeAll(async () => {
    replay = await replayServer();
    const vendorRegion: VendorRegion = { ...config.vendorRegions[REGION]!, baseUrl: `${replay.url}/` };
    recorded = createAzureAdapter(vendorRegion, { dispatcher, secrets: () => Promise.resolve('azure-recorded') });
  });
  afterAll(() => replay.close());

  it('classifies a recorded content_filter 400 as the caller’s, not the vendor’s fault', async () => {
    replay.reply(400, JSON_TYPE, fixture('azure/error-content-filter.json'));
    const error = await vendorFailure(recorded.complete(request, { deployment: deployment() }));
    expect(error).toMatchObject({ code: 'vendor_content_filter', failureClass: 'caller', retryable: false, vendorCode: 'content_filter' });
    const sent = replay.received.at(-1)!;
    expect(sent.url).toBe('/openai/deployments/gpt-4.1/chat/completions?api-version=2024-10-21');
    expect(sent.headers['api-key']).toBe('azure-recorded');
    expect(sent.headers.authorization).toBeUndefined();
  });

  it('classifies a 429 that says retry after 86400 s as a spent daily quota', async () => {
    const body = JSON.stringify({ error: { code: '429', message: 'Requests to the ChatCompletions_Create Operation have exceeded the daily quota. Please retry after 86400 seconds.' } });
    replay.reply(429, { ...JSON_TYPE, 'retry-after': '86400' }, body);
    const error = await vendorFailure(recorded.complete(request, { deployment: deployment() }));
    expect(error).toMatchObject({ code: 'vendor_quota_exhausted', failureClass: 'quota_exhausted', persistent: true, retryAfterMs: 86_400_000 });
  });

  it('decodes a recorded Azure stream whose first chunk has no choices and no id', async () => {
    replay.reply(200, { 'content-type': 'text/event-stream' }, fixture('azure/stream-text.sse'));
    const stream = await recorded.stream(request, { deployment: deployment() });
    const { text, events } = await collectStream(stream);
    expect(text).toBe('Hello from Azure.');
    expect(events[0]).toEqual({ type: 'start', id: 'chatcmpl-AzSim3', model: 'gpt-4o-2024-08-06' });
    expect(stream.metrics.usage?.outputTokens).toBe(4);
  });
});

describe('the simulated Azure OpenAI API on the wire', () => {
  const path = '/openai/deployments/gpt-4.1/chat/completions';
  const body = { messages: [{ role: 'user', content: 'Hi' }] };
  const post = async (query: string, headers: Record<string, string>, payload: unknown = body) => {
    const response = await fetch(`${simulator.endpoints()[REGION]}${path}${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(payload),
    });
    return { status: response.status, headers: response.headers, text: await response.text() };
  };
  const key = () => ({ 'api-key': simulator.credentials.apiKey });
  const errorOf = (text: string) => (JSON.parse(text) as { error: { code: string | null; message: string } }).error;

  it('needs an api-version it knows: 404 without one, 400 for one it does not', async () => {
    const missing = await post('', key());
    expect(missing.status).toBe(404);
    expect(errorOf(missing.text).code).toBe('404');
    const unknown = await post('?api-version=latest', key());
    expect(unknown.status).toBe(400);
    expect(errorOf(unknown.text).message).toContain('API version');
  });

  it('needs the api-key header; a bearer key is not it', async () => {
    const bearer = await post('?api-version=2024-10-21', { authorization: `Bearer ${simulator.credentials.apiKey}` });
    expect(bearer.status).toBe(401);
    expect(errorOf(bearer.text).code).toBe('401');
  });

  it('answers a body without `model` (the URL names the deployment) with content-filter annotations', async () => {
    const response = await post('?api-version=2024-10-21', key());
    expect(response.status).toBe(200);
    const json = JSON.parse(response.text) as { prompt_filter_results: unknown[]; choices: { content_filter_results: unknown }[] };
    expect(json.prompt_filter_results).toHaveLength(1);
    expect(json.choices[0]?.content_filter_results).toBeDefined();
    expect(response.headers.get('x-ms-region')).toBe('eastus');
  });

  it('starts a stream with an empty-choices prompt-filter chunk and ends it with [DONE]', async () => {
    const response = await post('?api-version=2024-10-21', key(), { ...body, stream: true });
    const chunks = response.text.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => e.slice(6));
    expect(JSON.parse(chunks[0]!)).toMatchObject({ id: '', choices: [], prompt_filter_results: [expect.any(Object)] });
    expect(chunks.at(-1)).toBe('[DONE]');
  });

  it('writes a 429 with code "429", retry-after and retry-after-ms while throttled', async () => {
    inject({ kind: 'throttle', retryAfterS: 4 });
    const response = await post('?api-version=2024-10-21', key());
    expect(response.status).toBe(429);
    expect(errorOf(response.text).code).toBe('429');
    expect(response.headers.get('retry-after')).toBe('4');
    expect(response.headers.get('retry-after-ms')).toBe('4000');
  });
});
