/** The routing core in one process against the simulator: the scenarios of the routing issue. */
import { afterEach, describe, expect, it } from 'vitest';
import { createRouterSystem, type RouterSystem, type RouterSystemOptions } from '../../actors/index.js';
import type { Config } from '../../src/config/index.js';
import { InvalidRequestError, RequestFailedError, type CanonicalRequest, type StreamEvent } from '../../src/domain/index.js';
import { FaultSchema, fullAnswerTokens, type FaultSpecInput, type RunningSimulator } from '../../src/simulator/index.js';
import { createVendorDispatcher } from '../../src/vendors/index.js';
import { seededRandom } from '../../src/simulator/random.js';
import { simulatorSecrets, startTestSimulator } from '../helpers/simulator.js';

const ask = (text: string, model = 'claude-sonnet-4'): CanonicalRequest => ({ model, maxTokens: 300, messages: [{ role: 'user', content: [{ type: 'text', text }] }] });

let simulator: RunningSimulator;
let config: Config;
let system: RouterSystem;
const dispatcher = createVendorDispatcher({ keepAliveTimeoutMs: 10 });

async function setup(options: Partial<RouterSystemOptions> = {}, latencyScale = 0) {
  ({ simulator, config } = await startTestSimulator({ latencyScale }));
  // Seeded: a latency-based route explores a random deployment now and then, and which request
  // does so is the same on every run (once in a few runs the hung-vendor scenario began on the
  // healthy one and never failed over).
  system = createRouterSystem(config, { secrets: simulatorSecrets(simulator), dispatcher, random: seededRandom(7) }, { environment: 'us_prod', ttftLimitMs: 2_000, ...options });
}

afterEach(async () => {
  await system?.stop();
  await simulator?.close();
});

const inject = (vendorRegion: string, fault: FaultSpecInput, extra: { model?: string; durationMs?: number } = {}) =>
  simulator.simulation.faults.add(FaultSchema.parse({ vendorRegion, durationMs: 60_000, ...fault, ...extra }));
const expected = (request: CanonicalRequest) => fullAnswerTokens(request, simulator.simulation.seed).join('');
const textOf = (events: StreamEvent[]) => events.map((e) => (e.type === 'delta' && e.delta.type === 'text' ? e.delta.text : '')).join('');

describe('router system against the simulator', () => {
  it('answers, naming the deployment, the model and the attempts', async () => {
    await setup();
    const request = ask('hello');
    const result = await system.complete(request, { useCase: 'conversation_serving' });
    expect(result.response.content).toEqual([{ type: 'text', text: expected(request) }]);
    expect(['claude-sonnet-4@vertex/us-east5', 'claude-sonnet-4@anthropic', 'claude-sonnet-4@bedrock/us-east-1']).toContain(result.servedBy.deployment);
    expect(result).toMatchObject({ attempts: 1, resumed: 0, servedBy: { model: 'claude-sonnet-4' } });
    expect(system.activeRequests()).toBe(0);
  });

  it('loses no request while one vendor-region is in outage', async () => {
    await setup();
    inject('vertex/us-east5', { kind: 'outage', mode: 'refuse' });
    inject('anthropic', { kind: 'outage', mode: '503' });
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => system.complete(ask(`question ${i}`), { useCase: 'conversation_serving' })));
    expect(results.every((r) => r.servedBy.deployment === 'claude-sonnet-4@bedrock/us-east-1')).toBe(true);
    expect(system.fleet.snapshot().vendorRegions['vertex/us-east5']).toBe('open');
    expect(system.activeRequests()).toBe(0);
  });

  it('moves traffic away from a vendor answering 529, and back after half-open probes', async () => {
    await setup({ health: { baseOpenMs: 300, jitter: 0, probes: 2, rampMs: 200, consecutiveFaults: 3 } });
    // otherwise: LoadBalanced(anthropic, bedrock/us-west-2), so Bedrock keeps being offered its half.
    const bedrock = 'claude-sonnet-4@bedrock/us-west-2';
    const fault = inject('bedrock/us-west-2', { kind: 'overload' });
    const served: string[] = [];
    for (let i = 0; i < 20; i++) served.push((await system.complete(ask(`q${i}`))).servedBy.deployment);
    expect(system.fleet.snapshot().deployments[bedrock]).toBe('open');
    expect(served.slice(-10)).not.toContain(bedrock);

    simulator.simulation.faults.remove(fault.id);
    await expect.poll(() => system.fleet.snapshot().deployments[bedrock], { timeout: 3_000 }).toBe('halfOpen');
    // Probes reach the half-open deployment; after enough successes it is back, ramping up.
    const after: string[] = [];
    await expect
      .poll(
        async () => {
          after.push((await system.complete(ask(`probe ${after.length}`))).servedBy.deployment);
          return system.fleet.snapshot().deployments[bedrock];
        },
        { timeout: 5_000, interval: 5 },
      )
      .toMatch(/^(degraded|healthy)$/);
    expect(after).toContain(bedrock);
  });

  it('resumes a stream cut after its first tokens, and the caller gets the whole answer exactly once', async () => {
    // test: Sequence(anthropic, bedrock/us-west-2), so the cut is on the first attempt and the resume on Bedrock.
    await setup({ environment: 'test' });
    inject('anthropic', { kind: 'cut', afterEvents: 6 });
    const request = ask('tell me a long story');
    const stream = system.stream(request);
    const events: StreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const outcome = await stream.outcome;
    expect(textOf(events)).toBe(expected(request));
    expect(events.filter((e) => e.type === 'start')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'end')).toHaveLength(1);
    expect(events.some((e) => e.type === 'error')).toBe(false);
    expect(outcome).toMatchObject({ ok: true, resumed: 1, servedBy: { deployment: 'claude-sonnet-4@bedrock/us-west-2' } });
    expect(outcome.attempts.map((a) => a.deployment)).toEqual(['claude-sonnet-4@anthropic', 'claude-sonnet-4@bedrock/us-west-2']);
  });

  it('ends a cut stream that cannot resume with one stream_interrupted error carrying what was delivered', async () => {
    await setup();
    for (const vendorRegion of ['openai', 'azure/eastus']) inject(vendorRegion, { kind: 'cut', afterEvents: 6 });
    const stream = system.stream(ask('story', 'gpt-4.1'));
    const events: StreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const outcome = await stream.outcome;
    const errors = events.filter((e) => e.type === 'error');
    expect(errors).toHaveLength(1);
    expect(events.at(-1)).toEqual(errors[0]);
    expect(outcome.failure).toMatchObject({ code: 'stream_interrupted' });
    expect(outcome.failure?.delivered).toBe(textOf(events));
    expect(textOf(events).length).toBeGreaterThan(0);
  });

  it('answers with gpt-4.1 when every Claude deployment is down', async () => {
    await setup();
    for (const vendorRegion of ['anthropic', 'bedrock/us-east-1', 'bedrock/us-west-2', 'vertex/us-east5']) inject(vendorRegion, { kind: 'outage', mode: '503' });
    const request = ask('fallback please');
    const result = await system.complete(request, { useCase: 'conversation_serving' });
    expect(result.servedBy.model).toBe('gpt-4.1');
    expect(result.response.model).toBe('gpt-4.1');
    expect(result.response.content).toEqual([{ type: 'text', text: expected(request) }]);
  });

  it('fails over from a hung vendor at the time-to-first-token limit', async () => {
    await setup({ ttftLimitMs: 250 });
    for (const vendorRegion of ['vertex/us-east5', 'anthropic']) inject(vendorRegion, { kind: 'hang' });
    const started = Date.now();
    const result = await system.complete(ask('anyone there?'), { useCase: 'conversation_serving' });
    expect(result.servedBy.deployment).toBe('claude-sonnet-4@bedrock/us-east-1');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('returns a caller error at once, without trying other deployments', async () => {
    await setup();
    const error = await system.complete({ ...ask('x'), maxTokens: 0 }, { useCase: 'conversation_serving' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestFailedError);
    expect(error).toMatchObject({ code: 'vendor_rejected', retryable: false });
  });

  it('fails over from a vendor-region whose credential is missing here, marks it unusable, and blames no vendor', async () => {
    ({ simulator, config } = await startTestSimulator({ latencyScale: 0 }));
    const secrets = simulatorSecrets(simulator);
    system = createRouterSystem(
      config,
      { secrets: (source) => ('env' in source && source.env === 'ANTHROPIC_API_KEY' ? Promise.reject(new Error('the environment variable ANTHROPIC_API_KEY is not set')) : secrets(source)), dispatcher },
      { environment: 'us_prod' },
    );
    // otherwise: LoadBalanced(anthropic, bedrock/us-west-2); the first request to reach anthropic fails over.
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => system.complete(ask(`q${i}`))));
    expect(results.every((r) => r.servedBy.deployment === 'claude-sonnet-4@bedrock/us-west-2')).toBe(true);
    expect(results.some((r) => r.attempts === 2)).toBe(true);
    expect(system.fleet.snapshot().vendorRegions.anthropic).toBe('unusable');
    expect(system.fleet.unusableVendorRegions().anthropic).toMatch(/apiKey credential is not available: the environment variable ANTHROPIC_API_KEY is not set/);
    expect(system.fleet.counts('claude-sonnet-4@anthropic')?.local).toMatchObject({ requests: 0, faults: 0 });
  });

  it('ends a request an adapter finds invalid after one attempt, spending no retry', async () => {
    await setup();
    const refusing = new Map([...Object.values(config.vendorRegions)].map((vr) => [vr.id, { vendorRegion: vr, complete: () => Promise.reject(new InvalidRequestError('messages.0', 'not for this model')), stream: () => Promise.reject(new InvalidRequestError('messages.0', 'not for this model')) }]));
    await system.stop();
    system = createRouterSystem(config, { secrets: simulatorSecrets(simulator), dispatcher, adapters: refusing }, { environment: 'us_prod' });
    const stream = system.stream(ask('x'));
    for await (const _event of stream) void _event;
    const outcome = await stream.outcome;
    expect(outcome.attempts).toHaveLength(1);
    expect(outcome.failure).toMatchObject({ code: 'invalid_request', field: 'messages.0', retryable: false });
    expect(system.retriesGranted()).toBe(0);
  });

  it('leaves no actor running after requests end, however they end', async () => {
    await setup({ ttftLimitMs: 200 });
    inject('anthropic', { kind: 'hang' });
    const controller = new AbortController();
    const cancelled = system.stream(ask('cancel me'), { useCase: 'otherwise', signal: controller.signal });
    controller.abort();
    const outcomes = await Promise.all([
      cancelled.outcome,
      system.complete(ask('a'), { useCase: 'otherwise' }).then(() => 'ok'),
      system.complete(ask('b'), { useCase: 'conversation_serving' }).then(() => 'ok'),
    ]);
    expect(outcomes[0]).toMatchObject({ ok: false, failure: { code: 'cancelled' } });
    expect(system.activeRequests()).toBe(0);
    await expect.poll(() => [...system.fleet.views().values()].reduce((sum, v) => sum + v.inFlight, 0)).toBe(0);
  });

  it('drains: finishes the requests in flight, then refuses new ones with router_draining', async () => {
    await setup();
    inject('openai', { kind: 'drip', intervalMs: 5 });
    inject('azure/eastus', { kind: 'drip', intervalMs: 5 });
    const inFlight = system.complete(ask('slow one', 'gpt-4.1'));
    await expect.poll(() => system.activeRequests()).toBe(1);
    // A grace far past the test's timeout: the drain must end because the last request did.
    const drained = system.drain(600_000);
    const refused = await system.complete(ask('too late')).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'router_draining' });
    expect((await inFlight).servedBy.model).toBe('gpt-4.1');
    await drained;
    expect(system.activeRequests()).toBe(0);
  });

  it('drains at once when nothing is in flight, and a second drain does not wait', async () => {
    await setup();
    await system.complete(ask('one'));
    await system.drain(60_000);
    await system.drain(60_000);
    expect(system.activeRequests()).toBe(0);
  });
});
