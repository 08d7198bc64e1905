/**
 * Hedging as the config turns it on (`hedge.<use case>`): a second attempt on the next deployment
 * of the same model when the first has no first token in time, the loser cancelled, the hedges
 * capped by their budget. Latency figures are in bench/capacity.bench.ts; here, who served and how often.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createRouterSystem, type RouterSystem } from '../../actors/index.js';
import type { Config } from '../../src/config/index.js';
import type { CanonicalRequest } from '../../src/domain/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { createVendorDispatcher } from '../../src/vendors/index.js';
import { seedConfig, simulatorSecrets, startTestSimulator } from '../helpers/simulator.js';

const ask = (text: string): CanonicalRequest => ({ model: 'claude-sonnet-4', maxTokens: 10, messages: [{ role: 'user', content: [{ type: 'text', text }] }] });
let simulator: RunningSimulator;
let system: RouterSystem;
const dispatcher = createVendorDispatcher({ keepAliveTimeoutMs: 10 });

/** Claude's test route is Sequence(anthropic, bedrock/us-west-2); anthropic answers its first token after about 400 ms, Bedrock at once. */
async function setup(hedge: Config['hedge']) {
  const seed = await seedConfig();
  const config: Config = { ...seed, pools: {}, hedge };
  const started = await startTestSimulator({
    config,
    latencyScale: 1,
    latency: { anthropic: { ttftMs: { median: 400, p95: 450 }, tokensPerSecond: { mean: 1000, sd: 0 } }, 'bedrock/us-west-2': { ttftMs: { median: 5, p95: 8 }, tokensPerSecond: { mean: 1000, sd: 0 } } },
  });
  simulator = started.simulator;
  system = createRouterSystem(started.config, { secrets: simulatorSecrets(simulator), dispatcher }, { environment: 'test' });
}

afterEach(async () => {
  await system?.stop();
  await simulator?.close();
});

const servedBy = async (n: number) => {
  const served: string[] = [];
  for (let i = 0; i < n; i++) served.push((await system.complete(ask(`hedge ${i}`))).servedBy.deployment);
  return served;
};

describe('hedging', () => {
  it('is off unless the config names the use case', async () => {
    await setup({});
    expect(new Set(await servedBy(3))).toEqual(new Set(['claude-sonnet-4@anthropic']));
    expect(system.hedges()).toEqual({});
  });

  it('sends a second attempt after `after` ms, the faster answers, and hedges stay within maxShare', async () => {
    await setup({ otherwise: { after: 50, maxShare: 50 } });
    const served = await servedBy(20);
    const { hedges, requests } = system.hedges().otherwise!;
    console.log(`hedging at 50 ms, maxShare 50 %: ${hedges} hedges for ${requests} requests; ${served.filter((d) => d.endsWith('bedrock/us-west-2')).length} answered by the hedge`);
    expect(requests).toBe(20);
    expect(hedges).toBeGreaterThan(0);
    expect(hedges).toBeLessThanOrEqual(requests * 0.5);
    // Every hedge won (Bedrock answers at once) and cancelled its loser, whose seat comes back as its call settles.
    expect(served.filter((d) => d === 'claude-sonnet-4@bedrock/us-west-2')).toHaveLength(hedges);
    await expect.poll(() => system.fleet.capacity.outstanding()).toBe(0);
  });
});
