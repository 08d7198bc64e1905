/**
 * Hedging against a brownout of the first-choice deployment, off and on in the same run: Claude's
 * test route is Sequence(anthropic, bedrock/us-west-2); anthropic's first token takes about 300 ms
 * with a long tail (p95 1.5 s), Bedrock's about 100 ms. With `hedge.otherwise` at 'p95' (after the
 * deployment's recent p95) and at a fixed 200 ms, both capped at 10 % of requests.
 */
import { createRouterSystem } from '../actors/index.js';
import type { Config } from '../src/config/index.js';
import { startSimulator } from '../src/simulator/index.js';
import { createVendorDispatcher } from '../src/vendors/index.js';
import { pointAt, seedConfig, simulatorSecrets } from '../test/helpers/simulator.js';

export interface Row {
  case: string;
  requests: number;
  hedges: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

async function scenario(name: string, hedge: Config['hedge']): Promise<Row> {
  const seed = await seedConfig();
  const config: Config = { ...seed, pools: {}, hedge };
  const simulator = await startSimulator({
    config,
    seed: 5,
    latency: { anthropic: { ttftMs: { median: 300, p95: 1500 }, tokensPerSecond: { mean: 500, sd: 0 } }, 'bedrock/us-west-2': { ttftMs: { median: 100, p95: 130 }, tokensPerSecond: { mean: 500, sd: 0 } } },
  });
  const dispatcher = createVendorDispatcher();
  const system = createRouterSystem(pointAt(config, simulator), { secrets: simulatorSecrets(simulator), dispatcher }, { environment: 'test' });
  const times: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (next < 400) {
        const i = next++;
        const started = performance.now();
        await system.complete({ model: 'claude-sonnet-4', maxTokens: 20, messages: [{ role: 'user', content: [{ type: 'text', text: `hedge bench ${i}` }] }] });
        times.push(performance.now() - started);
      }
    }),
  );
  const hedges = system.hedges().otherwise?.hedges ?? 0;
  await system.stop();
  await dispatcher.close();
  await simulator.close();
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? NaN;
  return { case: name, requests: times.length, hedges, p50Ms: at(0.5), p95Ms: at(0.95), p99Ms: at(0.99) };
}

export async function run(): Promise<Row[]> {
  return [
    await scenario('hedging off', {}),
    await scenario("hedging after the deployment's p95, at most 10 %", { otherwise: { after: 'p95', maxShare: 10 } }),
    await scenario('hedging after 200 ms, at most 10 %', { otherwise: { after: 200, maxShare: 10 } }),
  ];
}
