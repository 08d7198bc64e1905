import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { MockAgent, request as undiciRequest, type Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { z } from 'zod';
import type { Config, Deployment, VendorRegion } from '../../../src/config/index.js';
import type { CanonicalRequest, StreamEvent } from '../../../src/domain/index.js';
import { fullAnswerTokens, type RunningSimulator } from '../../../src/simulator/index.js';
import { FaultSchema, type FaultSpecSchema } from '../../../src/simulator/faults.js';
import { createBedrockAdapter, decodeBedrockStream } from '../../../src/vendors/bedrock/adapter.js';
import { chunkFrame, exceptionFrame } from '../../../src/vendors/bedrock/event-stream.js';
import { signBedrockRequest } from '../../../src/vendors/bedrock/sigv4.js';
import { createVendorDispatcher } from '../../../src/vendors/http.js';
import type { CallOptions, SecretResolver, VendorAdapter, VendorStream } from '../../../src/vendors/types.js';
import { seedConfig, simulatorSecrets, startTestSimulator } from '../../helpers/simulator.js';
import { vendorFailure } from '../../helpers/vendor-calls.js';

const VENDOR_REGION = 'bedrock/us-east-1';
const DEPLOYMENT_ID = `claude-sonnet-4@${VENDOR_REGION}`;

const REQUEST: CanonicalRequest = {
  model: 'claude-sonnet-4',
  system: 'Be brief.',
  messages: [{ role: 'user', content: [{ type: 'text', text: 'Which track is fastest today?' }] }],
  maxTokens: 256,
};

function fixtureBytes(name: string): Buffer {
  return readFileSync(new URL(`../../fixtures/bedrock/${name}`, import.meta.url));
}

function fixtureJson<T>(name: string): T {
  return JSON.parse(fixtureBytes(name).toString('utf8')) as T;
}


async function drain(stream: VendorStream, seen: StreamEvent[] = []): Promise<StreamEvent[]> {
  for await (const event of stream) seen.push(event);
  return seen;
}

function textOf(events: StreamEvent[]): string {
  return events.map((e) => (e.type === 'delta' && e.delta.type === 'text' ? e.delta.text : '')).join('');
}

/** Resolves once something accepts TCP connections at the URL's port. */
function accepting(url: string): Promise<void> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}

describe('bedrock adapter against the simulator', () => {
  let simulator: RunningSimulator;
  let config: Config;
  let vendorRegion: VendorRegion;
  let deployment: Deployment;
  let dispatcher: Agent;
  let adapter: VendorAdapter;
  let expectedText: string;
  let expectedTokens: number;

  const options = (extra: Partial<CallOptions> = {}): CallOptions => ({ deployment, ...extra });
  const inject = (fault: z.input<typeof FaultSpecSchema>) =>
    simulator.simulation.faults.add(FaultSchema.parse({ vendorRegion: VENDOR_REGION, durationMs: 60_000, ...fault }));

  beforeAll(async () => {
    ({ simulator, config } = await startTestSimulator());
    vendorRegion = config.vendorRegions[VENDOR_REGION]!;
    deployment = vendorRegion.deployments['claude-sonnet-4']!;
    dispatcher = createVendorDispatcher();
    adapter = createBedrockAdapter(vendorRegion, { dispatcher, secrets: simulatorSecrets(simulator) });
    const tokens = fullAnswerTokens(REQUEST, simulator.simulation.seed);
    expectedText = tokens.join('');
    expectedTokens = tokens.length;
  });

  afterEach(async () => {
    simulator.simulation.faults.clear();
    // A `refuse` outage closed the listener; the next test needs it back.
    await vi.waitFor(() => accepting(vendorRegion.baseUrl), { timeout: 5000, interval: 20 });
  });

  afterAll(async () => {
    await dispatcher.close();
    await simulator.close();
  });

  describe('answers', () => {
    it('answers a plain call with the simulator deterministic text, signed and sent to the encoded model path', async () => {
      const { response, metrics } = await adapter.complete(REQUEST, options());
      expect(response.content).toEqual([{ type: 'text', text: expectedText }]);
      expect(response.stopReason).toBe('end_turn');
      expect(response.id).toMatch(/^msg_bdrk_/);
      expect(response.usage.outputTokens).toBe(expectedTokens);
      expect(metrics.usage).toEqual(response.usage);
      const logged = simulator.log.list(VENDOR_REGION).at(-1);
      expect(logged?.path).toBe('/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/invoke');
      expect(logged?.headers['x-amz-content-sha256']).toMatch(/^[0-9a-f]{64}$/);
      expect(logged?.headers['x-amz-security-token']).toBeUndefined();
    });

    it('streams the same text, ending in exactly one end, with usage from the invocation metrics', async () => {
      const stream = await adapter.stream(REQUEST, options());
      const events = await drain(stream);
      expect(textOf(events)).toBe(expectedText);
      expect(events.filter((e) => e.type === 'end')).toEqual([{ type: 'end', stopReason: 'end_turn' }]);
      expect(events.at(-1)?.type).toBe('end');
      expect(events[0]?.type).toBe('start');
      expect(stream.metrics.usage?.outputTokens).toBe(expectedTokens);
      expect(stream.metrics.timeToFirstTokenMs).toBeGreaterThanOrEqual(0);
      expect(simulator.log.list(VENDOR_REGION).at(-1)?.path).toBe('/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/invoke-with-response-stream');
    });

    it('streams and answers the same tool call', async () => {
      const toolRequest: CanonicalRequest = {
        ...REQUEST,
        tools: [{ name: 'pick_track', inputSchema: { type: 'object', properties: { track: { type: 'string' } }, required: ['track'] } }],
        toolChoice: { type: 'tool', name: 'pick_track' },
      };
      const { response } = await adapter.complete(toolRequest, options());
      const events = await drain(await adapter.stream(toolRequest, options()));
      const fragments = events.flatMap((e) => (e.type === 'delta' && e.delta.type === 'tool_call' ? [e.delta] : []));
      const [call] = response.content;
      expect(call?.type).toBe('tool_call');
      if (call?.type !== 'tool_call') return;
      expect(fragments[0]).toMatchObject({ id: call.id, name: 'pick_track' });
      expect(JSON.parse(fragments.map((f) => f.argumentsJson).join(''))).toEqual(call.arguments);
      expect(events.at(-1)).toEqual({ type: 'end', stopReason: 'tool_use' });
    });
  });

  describe('faults before the answer', () => {
    it.each([
      ['503', 503, 'ServiceUnavailableException', 'vendor_overloaded'],
      ['500', 500, 'InternalServerException', 'vendor_unavailable'],
    ] as const)('outage %s: Bedrock names it %s, a fault', async (mode, status, vendorCode, code) => {
      inject({ kind: 'outage', mode });
      for (const call of [adapter.complete(REQUEST, options()), adapter.stream(REQUEST, options())]) {
        const error = await vendorFailure(call);
        expect(error).toMatchObject({ status, vendorCode, code, failureClass: 'fault', retryable: true });
      }
    });

    it('outage refuse: connection refused is a vendor_connection fault of the whole vendor-region', async () => {
      inject({ kind: 'outage', mode: 'refuse' });
      await vi.waitFor(async () => expect(await accepting(vendorRegion.baseUrl).then(() => 'open', () => 'closed')).toBe('closed'));
      const error = await vendorFailure(adapter.complete(REQUEST, options()));
      expect(error).toMatchObject({ code: 'vendor_connection', failureClass: 'fault', scope: 'vendor_region' });
    });

    it('brownout: still answers in full', async () => {
      inject({ kind: 'brownout', factor: 5 });
      const { response } = await adapter.complete(REQUEST, options());
      expect(response.content).toEqual([{ type: 'text', text: expectedText }]);
      expect(textOf(await drain(await adapter.stream(REQUEST, options())))).toBe(expectedText);
    });

    it('throttle: ThrottlingException 429 is a capacity signal, not a fault', async () => {
      inject({ kind: 'throttle' });
      const error = await vendorFailure(adapter.complete(REQUEST, options()));
      expect(error).toMatchObject({ status: 429, vendorCode: 'ThrottlingException', code: 'vendor_rate_limited', failureClass: 'capacity' });
      expect(error.message).toContain('Too many requests');
    });

    it('overload: ServiceUnavailableException 503 is vendor_overloaded, a fault', async () => {
      inject({ kind: 'overload' });
      const error = await vendorFailure(adapter.stream(REQUEST, options()));
      expect(error).toMatchObject({ status: 503, vendorCode: 'ServiceUnavailableException', code: 'vendor_overloaded', failureClass: 'fault' });
    });

    it('hang: no headers within firstByteTimeoutMs is vendor_timeout', async () => {
      inject({ kind: 'hang' });
      const started = performance.now();
      const plain = await vendorFailure(adapter.complete(REQUEST, options({ firstByteTimeoutMs: 150 })));
      const streamed = await vendorFailure(adapter.stream(REQUEST, options({ firstByteTimeoutMs: 150 })));
      for (const error of [plain, streamed]) expect(error).toMatchObject({ code: 'vendor_timeout', failureClass: 'fault' });
      expect(performance.now() - started).toBeLessThan(10_000);
    });

    it('bad credentials: a wrong secret is InvalidSignatureException, an unknown key UnrecognizedClientException, both vendor_auth', async () => {
      const real = simulatorSecrets(simulator);
      const wrongSecret: SecretResolver = (source) => ('env' in source && source.env === 'AWS_SECRET_ACCESS_KEY' ? Promise.resolve('not-the-secret') : real(source));
      const wrongKey: SecretResolver = (source) => ('env' in source && source.env === 'AWS_ACCESS_KEY_ID' ? Promise.resolve('AKIDUNKNOWN') : real(source));
      const bySecret = await vendorFailure(createBedrockAdapter(vendorRegion, { dispatcher, secrets: wrongSecret }).complete(REQUEST, options()));
      const byKey = await vendorFailure(createBedrockAdapter(vendorRegion, { dispatcher, secrets: wrongKey }).stream(REQUEST, options()));
      expect(bySecret).toMatchObject({ status: 403, vendorCode: 'InvalidSignatureException', code: 'vendor_auth', scope: 'vendor_region', persistent: true });
      expect(byKey).toMatchObject({ status: 403, vendorCode: 'UnrecognizedClientException', code: 'vendor_auth' });
    });

    it('an unknown model id is ResourceNotFoundException, vendor_not_found', async () => {
      const error = await vendorFailure(adapter.complete(REQUEST, options({ deployment: { ...deployment, vendorModelId: 'anthropic.claude-nonexistent-v1:0' } })));
      expect(error).toMatchObject({ status: 404, vendorCode: 'ResourceNotFoundException', code: 'vendor_not_found' });
    });
  });

  describe('faults inside the answer', () => {
    it.each([
      ['overloaded', 'serviceUnavailableException', 'vendor_overloaded', 'fault'],
      ['server_error', 'internalServerException', 'vendor_stream_error', 'fault'],
      ['rate_limited', 'throttlingException', 'vendor_rate_limited', 'capacity'],
    ] as const)('stream_error %s: the %s exception frame is %s (%s)', async (kind, vendorCode, code, failureClass) => {
      inject({ kind: 'stream_error', error: kind, afterEvents: 4 });
      const seen: StreamEvent[] = [];
      const error = await vendorFailure(adapter.stream(REQUEST, options()).then((s) => drain(s, seen)));
      expect(error).toMatchObject({ vendorCode, code, failureClass, retryable: true });
      // start, usage, then two tokens arrived before the exception frame.
      expect(textOf(seen)).not.toBe('');
      expect(expectedText.startsWith(textOf(seen))).toBe(true);
      expect(seen.some((e) => e.type === 'end')).toBe(false);
    });

    it('cut: a dropped connection mid-stream or mid-body is vendor_stream_truncated, a fault', async () => {
      inject({ kind: 'cut', afterEvents: 4 });
      const streamed = await vendorFailure(adapter.stream(REQUEST, options()).then((s) => drain(s)));
      const plain = await vendorFailure(adapter.complete(REQUEST, options()));
      for (const error of [streamed, plain]) expect(error).toMatchObject({ code: 'vendor_stream_truncated', failureClass: 'fault' });
    });

    it('malformed: a frame with a bad CRC, or JSON cut short, is vendor_malformed', async () => {
      inject({ kind: 'malformed', afterEvents: 4 });
      const streamed = await vendorFailure(adapter.stream(REQUEST, options()).then((s) => drain(s)));
      const plain = await vendorFailure(adapter.complete(REQUEST, options()));
      expect(streamed).toMatchObject({ code: 'vendor_malformed', failureClass: 'fault' });
      expect(streamed.message).toMatch(/checksum/);
      expect(plain).toMatchObject({ code: 'vendor_malformed', failureClass: 'fault' });
    });

    it('drip: succeeds, token by token at the drip interval', async () => {
      const intervalMs = 8;
      inject({ kind: 'drip', intervalMs });
      const stream = await adapter.stream(REQUEST, options());
      const events = await drain(stream);
      expect(textOf(events)).toBe(expectedText);
      const { durationMs = 0, timeToFirstTokenMs = 0 } = stream.metrics;
      // Timers may fire a millisecond early; half the interval per token leaves room for that.
      expect(durationMs - timeToFirstTokenMs).toBeGreaterThanOrEqual((expectedTokens - 1) * intervalMs * 0.5);
      const { metrics } = await adapter.complete(REQUEST, options());
      expect(metrics.durationMs).toBeGreaterThanOrEqual(expectedTokens * intervalMs * 0.5);
    });

    it('cancel: aborting mid-stream ends it as cancelled and the simulator sees the client close', async () => {
      inject({ kind: 'drip', intervalMs: 25 });
      const closedBefore = simulator.simulation.stats.snapshot()[DEPLOYMENT_ID]?.closedByClient ?? 0;
      const controller = new AbortController();
      const stream = await adapter.stream(REQUEST, options({ signal: controller.signal }));
      const seen: StreamEvent[] = [];
      const error = await vendorFailure(
        (async () => {
          for await (const event of stream) {
            seen.push(event);
            if (event.type === 'delta') controller.abort();
          }
        })(),
      );
      expect(error).toMatchObject({ code: 'cancelled', failureClass: 'caller', retryable: false });
      expect(seen.filter((e) => e.type === 'delta').length).toBeLessThan(expectedTokens);
      await vi.waitFor(() => expect(simulator.simulation.stats.snapshot()[DEPLOYMENT_ID]?.closedByClient).toBe(closedBefore + 1), { timeout: 5000, interval: 10 });
    });
  });

  describe('the simulator as a client sees it', () => {
    async function send(path: string, body: unknown, sign = true) {
      const url = `${vendorRegion.baseUrl}${path}`;
      const text = JSON.stringify(body);
      const headers = sign
        ? await signBedrockRequest({ method: 'POST', url, headers: { 'content-type': 'application/json' }, body: text }, { region: 'us-east-1', credentials: simulator.credentials.aws })
        : { 'content-type': 'application/json' };
      const response = await undiciRequest(url, { method: 'POST', headers, body: text, dispatcher });
      return { status: response.statusCode, errorType: response.headers['x-amzn-errortype'], body: (await response.body.json()) as { message?: string } };
    }
    const modelPath = `/model/${encodeURIComponent('us.anthropic.claude-sonnet-4-20250514-v1:0')}/invoke`;
    const valid = { anthropic_version: 'bedrock-2023-05-31', max_tokens: 64, messages: [{ role: 'user', content: 'Hello' }] };

    it('refuses an unsigned request as MissingAuthenticationTokenException', async () => {
      const answer = await send(modelPath, valid, false);
      expect(answer.status).toBe(403);
      expect(answer.errorType).toMatch(/^MissingAuthenticationTokenException:/);
    });

    it('requires anthropic_version and refuses model and stream in the body, as ValidationException', async () => {
      const { anthropic_version: _version, ...unversioned } = valid;
      for (const body of [unversioned, { ...valid, stream: true }, { ...valid, model: 'x' }, { ...valid, max_tokens: 0 }]) {
        const answer = await send(modelPath, body);
        expect(answer.status, JSON.stringify(body)).toBe(400);
        expect(answer.errorType).toMatch(/^ValidationException:http:\/\/internal\.amazon\.com\/coral\/com\.amazon\.bedrock\/$/);
        expect(answer.body.message).toMatch(/^Malformed input request/);
      }
      expect((await send(modelPath, unversioned)).body.message).toContain('anthropic_version');
    });

    it('answers an unknown operation with 404', async () => {
      const answer = await send('/model/x/converse-backwards', valid);
      expect(answer.status).toBe(404);
      expect(answer.errorType).toMatch(/^UnknownOperationException:/);
    });
  });

  it('quota: past the deployment rpm Bedrock answers ThrottlingException without retry-after', async () => {
    const base = await seedConfig();
    const region = base.vendorRegions[VENDOR_REGION]!;
    const sonnet = region.deployments['claude-sonnet-4']!;
    const tiny: Config = {
      ...base,
      vendorRegions: { ...base.vendorRegions, [VENDOR_REGION]: { ...region, deployments: { 'claude-sonnet-4': { ...sonnet, quota: { ...sonnet.quota, rpm: 1 } } } } },
    };
    const limited = await startTestSimulator({ config: tiny });
    try {
      const limitedRegion = limited.config.vendorRegions[VENDOR_REGION]!;
      const limitedAdapter = createBedrockAdapter(limitedRegion, { dispatcher, secrets: simulatorSecrets(limited.simulator) });
      await limitedAdapter.complete(REQUEST, options());
      const error = await vendorFailure(limitedAdapter.complete(REQUEST, options()));
      expect(error).toMatchObject({ status: 429, vendorCode: 'ThrottlingException', code: 'vendor_rate_limited', failureClass: 'capacity', retryAfterMs: undefined });
      expect(limited.simulator.simulation.stats.snapshot()[DEPLOYMENT_ID]?.rateLimited).toBe(1);
    } finally {
      await limited.simulator.close();
    }
  });
});

describe('bedrock adapter on recorded responses', () => {
  const ORIGIN = 'https://bedrock-runtime.us-east-1.amazonaws.com';
  let agent: MockAgent;
  let adapter: VendorAdapter;
  let deployment: Deployment;
  const secrets: SecretResolver = (source) => Promise.resolve('env' in source && source.env === 'AWS_ACCESS_KEY_ID' ? 'AKIDEXAMPLE' : 'secret');

  beforeAll(async () => {
    const vendorRegion = (await seedConfig()).vendorRegions[VENDOR_REGION]!;
    expect(vendorRegion.baseUrl).toBe(ORIGIN);
    deployment = vendorRegion.deployments['claude-sonnet-4']!;
    agent = new MockAgent();
    agent.disableNetConnect();
    adapter = createBedrockAdapter(vendorRegion, { dispatcher: agent, secrets });
  });

  afterAll(async () => {
    await agent.close();
  });

  type Recorded = { status: number; headers: Record<string, string>; body: Record<string, unknown> };

  function reply(operation: 'invoke' | 'invoke-with-response-stream', status: number, body: string | Buffer, headers: Record<string, string>) {
    agent
      .get(ORIGIN)
      .intercept({ method: 'POST', path: `/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/${operation}` })
      .reply(status, body, { headers });
  }

  function replyFrames(...frames: Uint8Array[]) {
    reply('invoke-with-response-stream', 200, Buffer.concat(frames), { 'content-type': 'application/vnd.amazon.eventstream' });
  }

  const recordedFrames = () => {
    const frames: Buffer[] = [];
    const whole = fixtureBytes('stream-text.bin');
    for (let at = 0; at < whole.length; at += whole.readUInt32BE(at)) frames.push(whole.subarray(at, at + whole.readUInt32BE(at)));
    return frames;
  };

  it('reads the recorded InvokeModel answer', async () => {
    const recorded = fixtureJson<Recorded>('invoke-response.json');
    reply('invoke', recorded.status, JSON.stringify(recorded.body), recorded.headers);
    const { response } = await adapter.complete(REQUEST, { deployment });
    expect(response).toEqual({
      id: 'msg_bdrk_01XFDUDYJgAACzvnptvVoYEL',
      model: 'claude-sonnet-4-20250514',
      content: [{ type: 'text', text: 'Hi! How can I help?' }],
      stopReason: 'end_turn',
      usage: { inputTokens: 14, outputTokens: 9 },
    });
  });

  it('takes usage from the x-amzn-bedrock-*-token-count headers when the body has none', async () => {
    const recorded = fixtureJson<Recorded>('invoke-response.json');
    const { usage: _usage, ...bodyWithoutUsage } = recorded.body;
    reply('invoke', 200, JSON.stringify(bodyWithoutUsage), recorded.headers);
    const { response, metrics } = await adapter.complete(REQUEST, { deployment });
    expect(response.usage).toEqual({ inputTokens: 14, outputTokens: 9 });
    expect(metrics.usage).toEqual({ inputTokens: 14, outputTokens: 9 });
  });

  it('classifies the recorded ThrottlingException by its x-amzn-ErrorType, suffix stripped', async () => {
    const recorded = fixtureJson<Recorded>('error-throttling.json');
    reply('invoke', recorded.status, JSON.stringify(recorded.body), recorded.headers);
    const error = await vendorFailure(adapter.complete(REQUEST, { deployment }));
    expect(error).toMatchObject({ status: 429, vendorCode: 'ThrottlingException', code: 'vendor_rate_limited', failureClass: 'capacity' });
    expect(error.message).toContain('Too many tokens, please wait before trying again.');
  });

  it.each([
    ['ServiceQuotaExceededException', 400, 'vendor_quota_exhausted', 'quota_exhausted'],
    ['ValidationException', 400, 'vendor_rejected', 'caller'],
    ['AccessDeniedException', 403, 'vendor_auth', 'fault'],
    ['ModelTimeoutException', 408, 'vendor_timeout', 'fault'],
    ['ModelErrorException', 424, 'vendor_unavailable', 'fault'],
    ['ModelNotReadyException', 429, 'vendor_overloaded', 'fault'],
  ] as const)('classifies %s (%i) as %s', async (name, status, code, failureClass) => {
    reply('invoke', status, JSON.stringify({ Message: `${name} happened` }), {
      'content-type': 'application/json',
      'x-amzn-ErrorType': `${name}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
    });
    const error = await vendorFailure(adapter.complete(REQUEST, { deployment }));
    expect(error).toMatchObject({ status, vendorCode: name, code, failureClass });
    expect(error.message).toContain(`${name} happened`);
  });

  it('streams the recorded frames: text, and usage from amazon-bedrock-invocationMetrics', async () => {
    replyFrames(fixtureBytes('stream-text.bin'));
    const stream = await adapter.stream(REQUEST, { deployment });
    const events = await drain(stream);
    expect(textOf(events)).toBe('Hi there!');
    const lastUsage = events.filter((e) => e.type === 'usage').at(-1);
    expect(lastUsage).toEqual({ type: 'usage', usage: { inputTokens: 14, outputTokens: 4 } });
    expect(events.at(-1)).toEqual({ type: 'end', stopReason: 'end_turn' });
    expect(stream.metrics.usage).toEqual({ inputTokens: 14, outputTokens: 4 });
  });

  it('fails a recorded stream that ends without message_stop as truncated', async () => {
    replyFrames(...recordedFrames().slice(0, -1));
    const error = await vendorFailure(adapter.stream(REQUEST, { deployment }).then((s) => drain(s)));
    expect(error).toMatchObject({ code: 'vendor_stream_truncated', failureClass: 'fault' });
  });

  it('classifies the captured modelStreamErrorException frame as a stream fault', async () => {
    replyFrames(...recordedFrames().slice(0, 3), fixtureBytes('exception-model-stream-error.bin'));
    const error = await vendorFailure(adapter.stream(REQUEST, { deployment }).then((s) => drain(s)));
    expect(error).toMatchObject({ vendorCode: 'modelStreamErrorException', code: 'vendor_stream_error', failureClass: 'fault' });
  });

  it('refuses a 200 stream whose content type is not event-stream', async () => {
    reply('invoke-with-response-stream', 200, '{"type":"message"}', { 'content-type': 'application/json' });
    const error = await vendorFailure(adapter.stream(REQUEST, { deployment }));
    expect(error).toMatchObject({ code: 'vendor_malformed' });
  });
});

describe('decodeBedrockStream', () => {
  const source = { vendor: 'bedrock' as const, vendorRegion: VENDOR_REGION };
  const body = (...frames: Uint8Array[]): AsyncIterable<Uint8Array> => Readable.from(frames);
  const start = chunkFrame(
    JSON.stringify({ type: 'message_start', message: { id: 'm', type: 'message', role: 'assistant', model: 'c', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 3, output_tokens: 1 } } }),
    'ab',
  );

  it('turns an Anthropic error chunk into an error event with its type as the code', async () => {
    const error = chunkFrame(JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }), 'abc');
    const batches = [];
    for await (const batch of decodeBedrockStream(source, body(start, error))) batches.push(...batch);
    expect(batches.at(-1)).toEqual({ type: 'error', error: { code: 'overloaded_error', message: 'Overloaded' } });
  });

  it('turns an exception frame into an error event named by its :exception-type', async () => {
    const batches = [];
    for await (const batch of decodeBedrockStream(source, body(start, exceptionFrame('throttlingException', 'slow down')))) batches.push(...batch);
    expect(batches.at(-1)).toEqual({ type: 'error', error: { code: 'throttlingException', message: 'slow down' } });
  });

  it('reports a chunk whose bytes are not JSON as vendor_malformed', async () => {
    const garbage = chunkFrame('{"type":"content_block_delta",', 'a');
    const error = await vendorFailure((async () => {
      for await (const _ of decodeBedrockStream(source, body(start, garbage))) void _;
    })());
    expect(error).toMatchObject({ code: 'vendor_malformed', failureClass: 'fault' });
  });
});
