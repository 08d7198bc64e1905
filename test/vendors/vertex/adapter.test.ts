import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { z } from 'zod';
import type { Config, Deployment, VendorRegion } from '../../../src/config/index.js';
import { VendorError, textOf, type CanonicalRequest, type StreamEvent } from '../../../src/domain/index.js';
import { FaultSchema, type FaultSpecSchema } from '../../../src/simulator/faults.js';
import type { RunningSimulator } from '../../../src/simulator/index.js';
import { createVendorDispatcher } from '../../../src/vendors/http.js';
import type { VendorAdapter, VendorStream } from '../../../src/vendors/types.js';
import { VERTEX_ANTHROPIC_VERSION, createVertexAdapter, predictUrl, vertexAdapter, vertexBody, vertexFailure } from '../../../src/vendors/vertex/adapter.js';
import { serviceAccountTokens, type AccessTokenSource } from '../../../src/vendors/vertex/token.js';
import { seedConfig, simulatorSecrets, startTestSimulator } from '../../helpers/simulator.js';

const VERTEX = 'vertex/us-east5';
const DEPLOYMENT_ID = 'claude-sonnet-4@vertex/us-east5';
const source = { vendor: 'vertex' as const, vendorRegion: VERTEX };

const REQUEST: CanonicalRequest = {
  model: 'claude-sonnet-4',
  system: 'Be brief.',
  messages: [{ role: 'user', content: [{ type: 'text', text: 'Which track is fastest today?' }] }],
  maxTokens: 256,
};

function fixture(name: string): string {
  return readFileSync(new URL(`../../fixtures/vertex/${name}`, import.meta.url), 'utf8');
}

async function rejection(promise: Promise<unknown>): Promise<VendorError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VendorError);
  return error as VendorError;
}

async function collect(stream: VendorStream): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

function textOfEvents(events: StreamEvent[]): string {
  return events.map((e) => (e.type === 'delta' && e.delta.type === 'text' ? e.delta.text : '')).join('');
}

/** The error a stream ends with: thrown before 200 or while iterating. */
async function streamFailure(adapter: VendorAdapter, options: Parameters<VendorAdapter['stream']>[1]): Promise<VendorError> {
  return rejection(adapter.stream(REQUEST, options).then(collect));
}

describe('the Vertex adapter against the simulator', () => {
  let simulator: RunningSimulator;
  let config: Config;
  let dispatcher: Agent;
  let vendorRegion: VendorRegion;
  let deployment: Deployment;
  let adapter: VendorAdapter;
  let expectedText: string;

  const addFault = (fault: z.input<typeof FaultSpecSchema>) =>
    simulator.simulation.faults.add(FaultSchema.parse({ vendorRegion: VERTEX, durationMs: 60_000, ...fault }));
  const predictions = () => simulator.log.list(VERTEX).filter((e) => e.path.includes(':'));
  const stats = () => simulator.simulation.stats.snapshot()[DEPLOYMENT_ID];

  beforeAll(async () => {
    ({ simulator, config } = await startTestSimulator());
    dispatcher = createVendorDispatcher();
    vendorRegion = config.vendorRegions[VERTEX]!;
    deployment = vendorRegion.deployments['claude-sonnet-4']!;
    adapter = createVertexAdapter(vendorRegion, { dispatcher, secrets: simulatorSecrets(simulator) });
    expectedText = textOf((await adapter.complete(REQUEST, { deployment })).response.content);
  });

  afterEach(() => {
    simulator.simulation.faults.clear();
    simulator.log.clear();
  });

  afterAll(async () => {
    await dispatcher.close();
    await simulator.close();
  });

  describe('answers', () => {
    it('completes with the deterministic answer, usage and a msg_vrtx id, through :rawPredict', async () => {
      const { response, metrics } = await adapter.complete(REQUEST, { deployment });
      expect(textOf(response.content)).toBe(expectedText);
      expect(expectedText.length).toBeGreaterThan(0);
      expect(response.id).toMatch(/^msg_vrtx_/);
      expect(response.model).toBe('claude-sonnet-4@20250514');
      expect(response.stopReason).toBe('end_turn');
      expect(response.usage.outputTokens).toBeGreaterThan(0);
      expect(metrics.usage).toStrictEqual(response.usage);
      const [call] = predictions();
      expect(call?.path).toBe('/v1/projects/switchyard-example/locations/us-east5/publishers/anthropic/models/claude-sonnet-4@20250514:rawPredict');
      expect(call?.headers['authorization']).toBe('****');
    });

    it('streams the same text through :streamRawPredict, ending in exactly one end', async () => {
      const events = await collect(await adapter.stream(REQUEST, { deployment }));
      expect(textOfEvents(events)).toBe(expectedText);
      expect(events[0]).toMatchObject({ type: 'start', id: expect.stringMatching(/^msg_vrtx_/) as unknown });
      expect(events.filter((e) => e.type === 'end')).toStrictEqual([{ type: 'end', stopReason: 'end_turn' }]);
      expect(events.at(-1)?.type).toBe('end');
      expect(predictions()[0]?.path).toMatch(/:streamRawPredict$/);
    });

    it('fetches one token for many calls', async () => {
      const fresh = createVertexAdapter(vendorRegion, { dispatcher, secrets: simulatorSecrets(simulator) });
      await Promise.all([fresh.complete(REQUEST, { deployment }), fresh.complete(REQUEST, { deployment }), fresh.stream(REQUEST, { deployment }).then(collect)]);
      expect(simulator.log.list(VERTEX).filter((e) => e.path === '/token')).toHaveLength(1);
      expect(predictions()).toHaveLength(3);
    });
  });

  describe('faults', () => {
    it.each([
      ['503', 503, 'UNAVAILABLE', 'vendor_region'],
      ['500', 500, 'INTERNAL', 'deployment'],
    ] as const)('an outage answering %s is vendor_unavailable (google.rpc %s), before any stream', async (mode, status, vendorCode, scope) => {
      addFault({ kind: 'outage', mode });
      const expected = { code: 'vendor_unavailable', status, vendorCode, scope, failureClass: 'fault', retryable: true };
      expect(await rejection(adapter.complete(REQUEST, { deployment }))).toMatchObject(expected);
      expect(await rejection(adapter.stream(REQUEST, { deployment }))).toMatchObject(expected);
    });

    it('an outage refusing connections is vendor_connection for the whole vendor-region', async () => {
      addFault({ kind: 'outage', mode: 'refuse' });
      expect(await rejection(adapter.complete(REQUEST, { deployment }))).toMatchObject({ code: 'vendor_connection', scope: 'vendor_region', failureClass: 'fault' });
      simulator.simulation.faults.clear();
      // The endpoint listens again once the fault is gone.
      await vi.waitFor(async () => expect(textOf((await adapter.complete(REQUEST, { deployment })).response.content)).toBe(expectedText));
    });

    it('a throttle is a capacity 429: RESOURCE_EXHAUSTED, with its RetryInfo as retry-after', async () => {
      addFault({ kind: 'throttle', retryAfterS: 3 });
      const error = await rejection(adapter.complete(REQUEST, { deployment }));
      expect(error).toMatchObject({ code: 'vendor_rate_limited', failureClass: 'capacity', status: 429, vendorCode: 'RESOURCE_EXHAUSTED', retryAfterMs: 3000, persistent: false });
      expect(await rejection(adapter.stream(REQUEST, { deployment }))).toMatchObject({ code: 'vendor_rate_limited', failureClass: 'capacity' });
    });

    it('an overload is the model layer\'s 529 overloaded_error', async () => {
      addFault({ kind: 'overload' });
      expect(await rejection(adapter.complete(REQUEST, { deployment }))).toMatchObject({ code: 'vendor_overloaded', status: 529, vendorCode: 'overloaded_error', failureClass: 'fault' });
    });

    it.each([
      ['overloaded', 'vendor_overloaded', 'fault'],
      ['server_error', 'vendor_stream_error', 'fault'],
      ['rate_limited', 'vendor_rate_limited', 'capacity'],
    ] as const)('a mid-stream %s error event is thrown by the iterator as %s', async (kind, code, failureClass) => {
      addFault({ kind: 'stream_error', error: kind, afterEvents: 3 });
      const stream = await adapter.stream(REQUEST, { deployment });
      const seen: StreamEvent[] = [];
      const error = await rejection(
        (async () => {
          for await (const event of stream) seen.push(event);
        })(),
      );
      expect(error).toMatchObject({ code, failureClass, retryable: true });
      expect(seen.some((e) => e.type === 'delta')).toBe(true);
      expect(seen.some((e) => e.type === 'end')).toBe(false);
    });

    it('a cut stream is vendor_stream_truncated; a cut before the answer is a connection failure', async () => {
      addFault({ kind: 'cut', afterEvents: 4 });
      expect(await streamFailure(adapter, { deployment })).toMatchObject({ code: 'vendor_stream_truncated', failureClass: 'fault' });
      expect(await rejection(adapter.complete(REQUEST, { deployment }))).toMatchObject({ code: 'vendor_connection', failureClass: 'fault' });
    });

    it('a malformed answer is vendor_malformed, streamed or whole', async () => {
      addFault({ kind: 'malformed', afterEvents: 4 });
      expect(await streamFailure(adapter, { deployment })).toMatchObject({ code: 'vendor_malformed', failureClass: 'fault' });
      expect(await rejection(adapter.complete(REQUEST, { deployment }))).toMatchObject({ code: 'vendor_malformed', failureClass: 'fault' });
    });

    it('a hang is vendor_timeout once the first-byte timeout passes', async () => {
      addFault({ kind: 'hang' });
      const options = { deployment, firstByteTimeoutMs: 150 };
      expect(await rejection(adapter.complete(REQUEST, options))).toMatchObject({ code: 'vendor_timeout', failureClass: 'fault', retryable: true });
      expect(await rejection(adapter.stream(REQUEST, options))).toMatchObject({ code: 'vendor_timeout' });
    });

    it('a drip still delivers the whole answer, one token per interval', async () => {
      const intervalMs = 10;
      addFault({ kind: 'drip', intervalMs });
      const stream = await adapter.stream(REQUEST, { deployment });
      const events = await collect(stream);
      expect(textOfEvents(events)).toBe(expectedText);
      const deltas = events.filter((e) => e.type === 'delta').length;
      // Timers never fire early; a millisecond per token covers clock rounding.
      expect(stream.metrics.durationMs).toBeGreaterThanOrEqual((deltas - 1) * (intervalMs - 1));
    });

    it('a drip slower than the idle timeout is vendor_timeout', async () => {
      // undici checks its body timeout on a timer ticking about every half second, so the gap must be well past that.
      addFault({ kind: 'drip', intervalMs: 5000 });
      expect(await streamFailure(adapter, { deployment, idleTimeoutMs: 300 })).toMatchObject({ code: 'vendor_timeout', failureClass: 'fault' });
    });

    it('cancelling mid-stream is cancelled, and the simulator sees the client close', async () => {
      addFault({ kind: 'drip', intervalMs: 50 });
      const closedBefore = stats()?.closedByClient ?? 0;
      const controller = new AbortController();
      const stream = await adapter.stream(REQUEST, { deployment, signal: controller.signal });
      const seen: StreamEvent[] = [];
      const error = await rejection(
        (async () => {
          for await (const event of stream) {
            seen.push(event);
            if (event.type === 'delta') controller.abort();
          }
        })(),
      );
      expect(error.code).toBe('cancelled');
      expect(seen.filter((e) => e.type === 'delta')).toHaveLength(1);
      await vi.waitFor(() => expect(stats()?.closedByClient).toBeGreaterThan(closedBefore));
    });
  });

  describe('credentials and resources', () => {
    const revoked = 'ya29.revoked-by-admin';

    it('on a 401, fetches a fresh token once and succeeds', async () => {
      const real = serviceAccountTokens({
        source,
        dispatcher,
        tokenUrl: vendorRegion.tokenUrl,
        readKey: () => Promise.resolve(JSON.stringify(simulator.credentials.serviceAccount)),
      });
      let stale = true;
      const tokens: AccessTokenSource = {
        token: (signal) => (stale ? Promise.resolve(revoked) : real.token(signal)),
        refused: (token) => {
          if (token === revoked) stale = false;
          real.refused(token);
        },
      };
      const { response } = await vertexAdapter(vendorRegion, { dispatcher, secrets: simulatorSecrets(simulator) }, tokens).complete(REQUEST, { deployment });
      expect(textOf(response.content)).toBe(expectedText);
      expect(predictions()).toHaveLength(2);
    });

    it('a token refused twice is vendor_auth for the vendor-region, after exactly one retry', async () => {
      const tokens: AccessTokenSource = { token: () => Promise.resolve(revoked), refused: () => undefined };
      const error = await rejection(vertexAdapter(vendorRegion, { dispatcher, secrets: simulatorSecrets(simulator) }, tokens).complete(REQUEST, { deployment }));
      expect(error).toMatchObject({ code: 'vendor_auth', status: 401, vendorCode: 'UNAUTHENTICATED', scope: 'vendor_region', persistent: true });
      expect(predictions()).toHaveLength(2);
    });

    it('a service-account key the token endpoint refuses is vendor_auth before any prediction', async () => {
      const wrongEmail = JSON.stringify({ ...simulator.credentials.serviceAccount, client_email: 'someone-else@switchyard-example.iam.gserviceaccount.com' });
      const badAdapter = createVertexAdapter(vendorRegion, { dispatcher, secrets: () => Promise.resolve(wrongEmail) });
      expect(await rejection(badAdapter.complete(REQUEST, { deployment }))).toMatchObject({ code: 'vendor_auth', scope: 'vendor_region', persistent: true, vendorCode: 'invalid_grant' });
      expect(predictions()).toHaveLength(0);
    });

    it('a model the vendor-region does not serve is vendor_not_found (google.rpc NOT_FOUND)', async () => {
      const unknown = { ...deployment, vendorModelId: 'claude-unknown@20990101' };
      expect(await rejection(adapter.complete(REQUEST, { deployment: unknown }))).toMatchObject({ code: 'vendor_not_found', status: 404, vendorCode: 'NOT_FOUND', persistent: true });
    });

    it('another project is PERMISSION_DENIED: vendor_auth', async () => {
      const elsewhere = createVertexAdapter({ ...vendorRegion, projectId: 'not-our-project' }, { dispatcher, secrets: simulatorSecrets(simulator) });
      expect(await rejection(elsewhere.complete(REQUEST, { deployment }))).toMatchObject({ code: 'vendor_auth', status: 403, vendorCode: 'PERMISSION_DENIED' });
    });

    it('a request Anthropic refuses comes back to the caller as vendor_rejected', async () => {
      const tooManyStops = { ...REQUEST, stopSequences: Array.from({ length: 17 }, (_, i) => `stop${i}`) };
      expect(await rejection(adapter.complete(tooManyStops, { deployment }))).toMatchObject({ code: 'vendor_rejected', status: 400, failureClass: 'caller', retryable: false });
    });
  });
});

describe('the Vertex adapter on the simulator\'s quota and latency', () => {
  async function simulatorWith(change: (config: Config) => Config, options: Parameters<typeof startTestSimulator>[0] = {}) {
    const { simulator, config } = await startTestSimulator({ ...options, config: change(await seedConfig()) });
    const dispatcher = createVendorDispatcher();
    const vendorRegion = config.vendorRegions[VERTEX]!;
    const adapter = createVertexAdapter(vendorRegion, { dispatcher, secrets: simulatorSecrets(simulator) });
    return {
      simulator,
      adapter,
      deployment: vendorRegion.deployments['claude-sonnet-4']!,
      close: async () => {
        await dispatcher.close();
        await simulator.close();
      },
    };
  }

  it('a used-up request quota is a capacity 429 (RESOURCE_EXHAUSTED) with a wait within the minute', async () => {
    const oneRpm = (config: Config): Config => {
      const vr = config.vendorRegions[VERTEX]!;
      const dep = vr.deployments['claude-sonnet-4']!;
      const deployments = { ...vr.deployments, 'claude-sonnet-4': { ...dep, quota: { ...dep.quota, rpm: 1 } } };
      return { ...config, vendorRegions: { ...config.vendorRegions, [VERTEX]: { ...vr, deployments } } };
    };
    const sim = await simulatorWith(oneRpm);
    try {
      await sim.adapter.complete(REQUEST, { deployment: sim.deployment });
      const error = await rejection(sim.adapter.complete(REQUEST, { deployment: sim.deployment }));
      expect(error).toMatchObject({ code: 'vendor_rate_limited', failureClass: 'capacity', status: 429, vendorCode: 'RESOURCE_EXHAUSTED' });
      expect(error.retryAfterMs).toBeGreaterThan(0);
      expect(error.retryAfterMs).toBeLessThanOrEqual(60_000);
      expect(sim.simulator.simulation.stats.snapshot()[DEPLOYMENT_ID]?.rateLimited).toBe(1);
    } finally {
      await sim.close();
    }
  });

  it('a brownout slows the first byte by its factor and still answers', async () => {
    const ttftMs = 20;
    const sim = await simulatorWith((c) => c, {
      latencyScale: 1,
      latency: { [VERTEX]: { ttftMs: { median: ttftMs, p95: ttftMs }, tokensPerSecond: { mean: 1_000_000, sd: 0 } } },
    });
    try {
      sim.simulator.simulation.faults.add(FaultSchema.parse({ vendorRegion: VERTEX, kind: 'brownout', factor: 10, durationMs: 60_000 }));
      const { response, metrics } = await sim.adapter.complete(REQUEST, { deployment: sim.deployment });
      expect(textOf(response.content).length).toBeGreaterThan(0);
      expect(metrics.timeToFirstByteMs).toBeGreaterThanOrEqual(10 * ttftMs - 5);
    } finally {
      await sim.close();
    }
  });
});

describe('recorded Vertex responses', () => {
  let server: Server;
  let baseUrl: string;
  let dispatcher: Agent;
  let vendorRegion: VendorRegion;
  let deployment: Deployment;
  const served: string[] = [];
  const replies = new Map<string, { status: number; type: string; body: string }>();
  const tokens: AccessTokenSource = { token: () => Promise.resolve('ya29.recorded'), refused: () => undefined };

  beforeAll(async () => {
    server = createServer((req, res) => {
      const method = req.url?.split(':').at(-1) ?? '';
      served.push(method);
      const reply = replies.get(method);
      req.resume();
      if (!reply) return void res.writeHead(500).end();
      res.writeHead(reply.status, { 'content-type': reply.type }).end(reply.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dispatcher = createVendorDispatcher();
    const config = await seedConfig();
    vendorRegion = { ...config.vendorRegions[VERTEX]!, baseUrl };
    deployment = vendorRegion.deployments['claude-sonnet-4']!;
  });

  afterEach(() => {
    served.length = 0;
    replies.clear();
  });

  afterAll(async () => {
    await dispatcher.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const recorded = () => vertexAdapter(vendorRegion, { dispatcher, secrets: () => Promise.reject(new Error('unused')) }, tokens);

  it('decodes a recorded padded stream with the shared Anthropic decoder', async () => {
    replies.set('streamRawPredict', { status: 200, type: 'text/event-stream; charset=utf-8', body: fixture('stream-text.sse') });
    const events = await collect(await recorded().stream(REQUEST, { deployment }));
    expect(events).toStrictEqual([
      { type: 'start', id: 'msg_vrtx_01HyVcL8gxkJ2bDLm2bW3xQw', model: 'claude-sonnet-4-20250514' },
      { type: 'usage', usage: { inputTokens: 14, cacheReadTokens: 0, cacheWriteTokens: 0 } },
      // The recording's two text deltas arrive in one network read, so they come as one.
      { type: 'delta', index: 0, delta: { type: 'text', text: 'Hello from Vertex.' } },
      { type: 'usage', usage: { outputTokens: 7 } },
      { type: 'end', stopReason: 'end_turn' },
    ]);
  });

  it('reads an array-wrapped RESOURCE_EXHAUSTED as a capacity 429', async () => {
    replies.set('rawPredict', { status: 429, type: 'application/json; charset=UTF-8', body: fixture('error-resource-exhausted.json') });
    const error = await rejection(recorded().complete(REQUEST, { deployment }));
    expect(error).toMatchObject({ code: 'vendor_rate_limited', failureClass: 'capacity', vendorCode: 'RESOURCE_EXHAUSTED' });
    expect(error.message).toMatch(/Quota exceeded/);
  });

  it('reads UNAUTHENTICATED as vendor_auth, after one retry with a fresh token', async () => {
    replies.set('rawPredict', { status: 401, type: 'application/json; charset=UTF-8', body: fixture('error-unauthenticated.json') });
    const error = await rejection(recorded().complete(REQUEST, { deployment }));
    expect(error).toMatchObject({ code: 'vendor_auth', vendorCode: 'UNAUTHENTICATED', scope: 'vendor_region', persistent: true });
    expect(served).toStrictEqual(['rawPredict', 'rawPredict']);
  });
});

describe('vertexFailure', () => {
  const resourceExhausted = (message: string, details?: unknown[]) =>
    JSON.stringify([{ error: { code: 429, message, status: 'RESOURCE_EXHAUSTED', ...(details && { details }) } }]);

  it('reads google.rpc errors whether wrapped in an array or not', () => {
    const wrapped = vertexFailure(source, 429, {}, fixture('error-resource-exhausted.json'));
    expect(wrapped).toMatchObject({ status: 429, vendorCode: 'RESOURCE_EXHAUSTED', message: expect.stringMatching(/^Quota exceeded/) as unknown });
    const bare = vertexFailure(source, 401, {}, fixture('error-unauthenticated.json'));
    expect(bare).toMatchObject({ status: 401, vendorCode: 'UNAUTHENTICATED' });
  });

  it('reads the Anthropic envelope the model layer answers in', () => {
    const text = JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' }, request_id: 'req_vrtx_011' });
    expect(vertexFailure(source, 529, {}, text)).toMatchObject({ status: 529, vendorCode: 'overloaded_error', message: 'Overloaded' });
  });

  it('marks a zero quota as quota_exceeded, so the policy fails over instead of waiting', () => {
    const zero = vertexFailure(source, 429, {}, resourceExhausted('Quota exceeded for metric: online_prediction_requests_per_base_model, limit: 0'));
    expect(zero.vendorCode).toBe('quota_exceeded');
    const burst = vertexFailure(source, 429, {}, resourceExhausted('Quota exceeded for metric: online_prediction_requests_per_base_model, limit: 60'));
    expect(burst.vendorCode).toBe('RESOURCE_EXHAUSTED');
  });

  it('takes the wait from RetryInfo, and a retry-after header over it', () => {
    const text = resourceExhausted('Resource exhausted.', [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '120s' }]);
    expect(vertexFailure(source, 429, {}, text).retryAfterMs).toBe(120_000);
    expect(vertexFailure(source, 429, { 'retry-after': '5' }, text).retryAfterMs).toBe(5000);
  });

  it('keeps a non-JSON answer as an excerpt with only the status to go on', () => {
    const failure = vertexFailure(source, 502, {}, '<html>Bad Gateway</html>');
    expect(failure).toMatchObject({ status: 502, vendorCode: undefined, excerpt: '<html>Bad Gateway</html>' });
  });
});

describe('the Vertex request', () => {
  it('is the Anthropic body without model, with the Vertex anthropic_version, and stream only when streaming', () => {
    const plain = vertexBody(REQUEST, 'claude-sonnet-4@20250514', false);
    expect(plain).toStrictEqual({
      anthropic_version: VERTEX_ANTHROPIC_VERSION,
      max_tokens: 256,
      system: 'Be brief.',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Which track is fastest today?' }] }],
    });
    expect(vertexBody(REQUEST, 'claude-sonnet-4@20250514', true)).toStrictEqual({ ...plain, stream: true });
  });

  it('goes to the global location on the global endpoint, with the model id as Google writes it', async () => {
    const config = await seedConfig();
    const global = { ...config.vendorRegions[VERTEX]!, id: 'vertex/global', region: 'global', baseUrl: 'https://aiplatform.googleapis.com/v1/' };
    expect(predictUrl(global, 'claude-sonnet-4@20250514', true)).toBe(
      'https://aiplatform.googleapis.com/v1/projects/switchyard-example/locations/global/publishers/anthropic/models/claude-sonnet-4@20250514:streamRawPredict',
    );
    expect(predictUrl(global, 'a/b', false)).toMatch(/models\/a%2Fb:rawPredict$/);
  });
});
