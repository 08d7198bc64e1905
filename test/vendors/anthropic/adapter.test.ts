import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/index.js';
import type { CanonicalRequest, StreamEvent } from '../../../src/domain/index.js';
import { FaultSchema, fullAnswerTokens, type FaultSpecInput, type RunningSimulator } from '../../../src/simulator/index.js';
import { createAnthropicAdapter } from '../../../src/vendors/anthropic/adapter.js';
import { createVendorDispatcher, type VendorAdapter } from '../../../src/vendors/index.js';
import { collectStream, vendorFailure } from '../../helpers/vendor-calls.js';
import { simulatorSecrets, startTestSimulator } from '../../helpers/simulator.js';

const request: CanonicalRequest = {
  model: 'claude-sonnet-4',
  maxTokens: 200,
  messages: [{ role: 'user', content: [{ type: 'text', text: 'What does a switchyard do?' }] }],
};

let simulator: RunningSimulator;
let config: Config;
let adapter: VendorAdapter;
const dispatcher = createVendorDispatcher({ keepAliveTimeoutMs: 10 });

const deployment = () => config.vendorRegions.anthropic!.deployments['claude-sonnet-4']!;
const expectedText = () => fullAnswerTokens(request, simulator.simulation.seed).join('');
const inject = (fault: FaultSpecInput) =>
  simulator.simulation.faults.add(FaultSchema.parse({ vendorRegion: 'anthropic', durationMs: 60_000, ...fault }));


function streamFailure(): ReturnType<typeof vendorFailure> {
  return vendorFailure((async () => collectStream(await adapter.stream(request, { deployment: deployment() })))());
}

beforeAll(async () => {
  ({ simulator, config } = await startTestSimulator());
  adapter = createAnthropicAdapter(config.vendorRegions.anthropic!, { dispatcher, secrets: simulatorSecrets(simulator) });
});
afterAll(async () => {
  await simulator.close();
  await dispatcher.close();
});
beforeEach(() => simulator.simulation.faults.clear());

describe('anthropic adapter against the simulator', () => {
  it('completes a request with the deterministic answer, usage and capacity hints', async () => {
    const { response, metrics } = await adapter.complete(request, { deployment: deployment() });
    expect(response.content).toEqual([{ type: 'text', text: expectedText() }]);
    expect(response.stopReason).toBe('end_turn');
    expect(metrics.usage?.outputTokens).toBe(fullAnswerTokens(request, simulator.simulation.seed).length);
    expect(metrics.capacity.requestsLimit).toBe(2000);
    expect(metrics.timeToFirstByteMs).toBeGreaterThanOrEqual(0);
  });

  it('streams the same text in order, ending in exactly one end, with time to first token measured', async () => {
    const stream = await adapter.stream(request, { deployment: deployment() });
    const { text, events } = await collectStream(stream);
    expect(text).toBe(expectedText());
    expect(events[0]?.type).toBe('start');
    expect(events.filter((e) => e.type === 'end')).toHaveLength(1);
    expect(events.at(-1)?.type).toBe('end');
    expect(stream.metrics.timeToFirstTokenMs).toBeDefined();
    expect(stream.metrics.usage?.inputTokens).toBeGreaterThan(0);
  });

  it.each([
    ['outage 503', { kind: 'outage', mode: '503' }, 'vendor_unavailable', 'fault'],
    ['outage 500', { kind: 'outage', mode: '500' }, 'vendor_unavailable', 'fault'],
    ['throttle storm', { kind: 'throttle', retryAfterS: 3 }, 'vendor_rate_limited', 'capacity'],
    ['overload (529)', { kind: 'overload' }, 'vendor_overloaded', 'fault'],
  ] as const)('classifies %s before any answer', async (_name, fault, code, failureClass) => {
    inject(fault);
    const error = await vendorFailure(adapter.complete(request, { deployment: deployment() }));
    expect(error.code).toBe(code);
    expect(error.failureClass).toBe(failureClass);
    expect(error.retryable).toBe(true);
    if (fault.kind === 'throttle') expect(error.retryAfterMs).toBe(3000);
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
    ['overloaded', 'vendor_overloaded', 'fault'],
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
    expect(error.code).toBe('vendor_stream_truncated');
    expect(error.failureClass).toBe('fault');
    expect(error.retryable).toBe(true);
  });

  it('classifies a malformed stream chunk and a malformed body', async () => {
    inject({ kind: 'malformed', afterEvents: 4 });
    expect((await streamFailure()).code).toBe('vendor_malformed');
    const plain = await vendorFailure(adapter.complete(request, { deployment: deployment() }));
    expect(plain.code).toBe('vendor_malformed');
    expect(plain.excerpt).toContain('msg_sim');
  });

  it('gives up on a hung vendor at the first-byte limit', async () => {
    inject({ kind: 'hang' });
    const started = Date.now();
    const error = await vendorFailure(adapter.complete(request, { deployment: deployment(), firstByteTimeoutMs: 200 }));
    expect(error.code).toBe('vendor_timeout');
    expect(error.failureClass).toBe('fault');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('still answers through a brownout and a slow drip', async () => {
    inject({ kind: 'brownout', factor: 10 });
    inject({ kind: 'drip', intervalMs: 2 });
    const { text } = await collectStream(await adapter.stream(request, { deployment: deployment() }));
    expect(text).toBe(expectedText());
  });

  it('honours the deadline, and returns an over-long request to the caller', async () => {
    inject({ kind: 'hang' });
    const deadline = await vendorFailure(adapter.complete(request, { deployment: deployment(), deadline: Date.now() + 150 }));
    expect(deadline.code).toBe('vendor_timeout');
    simulator.simulation.faults.clear();
    const rejected = await vendorFailure(adapter.complete({ ...request, maxTokens: 0 }, { deployment: deployment() }));
    expect(rejected.code).toBe('vendor_rejected');
    expect(rejected.failureClass).toBe('caller');
    expect(rejected.retryable).toBe(false);
  });

  it('classifies a wrong key as an auth fault of the vendor-region', async () => {
    const wrong = createAnthropicAdapter(config.vendorRegions.anthropic!, { dispatcher, secrets: () => Promise.resolve('sk-wrong') });
    const error = await vendorFailure(wrong.complete(request, { deployment: deployment() }));
    expect(error).toMatchObject({ code: 'vendor_auth', scope: 'vendor_region', persistent: true, status: 401 });
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
    const cancelledAt = Date.now();
    await expect.poll(() => simulator.simulation.stats.snapshot()[id]?.closedByClient ?? 0, { timeout: 2_000, interval: 5 }).toBe(before + 1);
    // Measured, not asserted as a timing claim: how fast the close reached the vendor.
    console.log(`upstream saw the close ${(simulator.simulation.stats.snapshot()[id]?.lastClosedByClientAt ?? 0) - cancelledAt} ms after the abort`);
  });
});

describe('anthropic adapter against recorded vendor responses', () => {
  async function replay(status: number, contentType: string, file: string, headers: Record<string, string> = {}) {
    const { createServer } = await import('node:http');
    const { readFile } = await import('node:fs/promises');
    const body = await readFile(new URL(`../../fixtures/anthropic/${file}`, import.meta.url));
    const server = createServer((_req, res) => res.writeHead(status, { 'content-type': contentType, ...headers }).end(body));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address() as { port: number };
    const vendorRegion = { ...config.vendorRegions.anthropic!, baseUrl: `http://127.0.0.1:${address.port}` };
    const recorded = createAnthropicAdapter(vendorRegion, { dispatcher, secrets: () => Promise.resolve('sk-recorded') });
    return { recorded, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  }

  it('reads a recorded message', async () => {
    const { recorded, close } = await replay(200, 'application/json', 'message.json');
    try {
      const { response } = await recorded.complete(request, { deployment: deployment() });
      expect(response.content[0]?.type).toBe('text');
      expect(response.usage.outputTokens).toBeGreaterThan(0);
    } finally {
      await close();
    }
  });

  it('streams a recorded text stream and a recorded tool-use stream', async () => {
    for (const [file, check] of [
      ['stream-text.sse', (events: StreamEvent[]) => expect(events.some((e) => e.type === 'delta' && e.delta.type === 'text')).toBe(true)],
      ['stream-tool-use.sse', (events: StreamEvent[]) => expect(events.some((e) => e.type === 'delta' && e.delta.type === 'tool_call')).toBe(true)],
    ] as const) {
      const { recorded, close } = await replay(200, 'text/event-stream; charset=utf-8', file);
      try {
        const { events } = await collectStream(await recorded.stream(request, { deployment: deployment() }));
        expect(events.at(-1)?.type).toBe('end');
        check(events);
      } finally {
        await close();
      }
    }
  });

  it('classifies a recorded mid-stream overloaded error and a recorded 429', async () => {
    const stream = await replay(200, 'text/event-stream', 'stream-overloaded-error.sse');
    try {
      const error = await vendorFailure((async () => collectStream(await stream.recorded.stream(request, { deployment: deployment() })))());
      expect(error.code).toBe('vendor_overloaded');
    } finally {
      await stream.close();
    }
    const limited = await replay(429, 'application/json', 'error-rate-limit.json', { 'retry-after': '12' });
    try {
      const error = await vendorFailure(limited.recorded.complete(request, { deployment: deployment() }));
      expect(error).toMatchObject({ code: 'vendor_rate_limited', failureClass: 'capacity', retryAfterMs: 12_000, status: 429 });
    } finally {
      await limited.close();
    }
  });
});
