/**
 * The crawl guard against the simulator's `drip` fault: a stream that keeps flowing far below its
 * deployment's pace resumes elsewhere where the model family takes a prefill (the caller's text
 * exact), and elsewhere finishes as it is, its deployment marked degraded.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createRouterSystem, type RouterSystem } from '../../actors/index.js';
import type { Config } from '../../src/config/index.js';
import type { CanonicalRequest, StreamEvent } from '../../src/domain/index.js';
import { FaultSchema, fullAnswerTokens, type RunningSimulator } from '../../src/simulator/index.js';
import { createVendorDispatcher } from '../../src/vendors/index.js';
import { seedConfig, simulatorSecrets, startTestSimulator } from '../helpers/simulator.js';

const ask = (text: string, model: string, maxTokens = 300): CanonicalRequest => ({ model, maxTokens, messages: [{ role: 'user', content: [{ type: 'text', text }] }] });
const textOf = (events: StreamEvent[]) => events.map((e) => (e.type === 'delta' && e.delta.type === 'text' ? e.delta.text : '')).join('');
let simulator: RunningSimulator;
let system: RouterSystem;
const dispatcher = createVendorDispatcher({ keepAliveTimeoutMs: 10 });

/** Test routes: Claude Sequence(anthropic, bedrock/us-west-2), GPT Sequence(openai, azure/eastus); a crawl counts after 1 s. */
async function setup() {
  const seed = await seedConfig();
  const config: Config = { ...seed, pools: {}, crawlGuard: { belowShare: 25, forMs: 1_000 } };
  const fast = { ttftMs: { median: 20, p95: 30 }, tokensPerSecond: { mean: 200, sd: 0 } };
  const started = await startTestSimulator({ config, latencyScale: 1, latency: { anthropic: fast, 'bedrock/us-west-2': fast, openai: fast, 'azure/eastus': fast } });
  simulator = started.simulator;
  system = createRouterSystem(started.config, { secrets: simulatorSecrets(simulator), dispatcher }, { environment: 'test' });
}

afterEach(async () => {
  await system?.stop();
  await simulator?.close();
});

async function streamed(request: CanonicalRequest) {
  const stream = system.stream(request);
  const events: StreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return { events, outcome: await stream.outcome };
}

describe('crawl guard', () => {
  it('resumes a crawling Claude stream on another deployment, the text exact', async () => {
    await setup();
    // The deployment's pace is learned from ordinary answers first.
    for (let i = 0; i < 3; i++) await system.complete(ask(`warm ${i}`, 'claude-sonnet-4'));
    expect(system.fleet.view('claude-sonnet-4@anthropic')?.tokensPerSecond).toBeGreaterThan(50);
    simulator.simulation.faults.add(FaultSchema.parse({ vendorRegion: 'anthropic', kind: 'drip', intervalMs: 200, durationMs: 60_000 }));
    const request = ask('a slow one', 'claude-sonnet-4');
    const { events, outcome } = await streamed(request);
    expect(outcome).toMatchObject({ ok: true, resumed: 1, servedBy: { deployment: 'claude-sonnet-4@bedrock/us-west-2' } });
    expect(textOf(events)).toBe(fullAnswerTokens(request, simulator.simulation.seed).join(''));
    expect(system.fleet.state('claude-sonnet-4@anthropic')).not.toBe('healthy');
  });

  it('lets a crawling GPT stream finish (nowhere to resume it) and marks its deployment degraded', async () => {
    await setup();
    for (let i = 0; i < 3; i++) await system.complete(ask(`warm ${i}`, 'gpt-4.1'));
    simulator.simulation.faults.add(FaultSchema.parse({ vendorRegion: 'openai', kind: 'drip', intervalMs: 150, durationMs: 60_000 }));
    const request = ask('a slow one', 'gpt-4.1', 12);
    const { events, outcome } = await streamed(request);
    expect(outcome).toMatchObject({ ok: true, resumed: 0, servedBy: { deployment: 'gpt-4.1@openai' } });
    // Twelve tokens at most: the answer's first twelve, all of them.
    expect(textOf(events)).toBe(fullAnswerTokens(request, simulator.simulation.seed).slice(0, 12).join(''));
    expect(system.fleet.state('gpt-4.1@openai')).toBe('degraded');
  });
});
