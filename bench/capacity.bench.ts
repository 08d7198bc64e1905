/**
 * Capacity under load, in one process against the simulator (its quotas enforced):
 *
 * - the brownout of issue 9: 1,000 concurrent flagship streams while every Claude vendor-region
 *   is five times slower; Claude has 400 concurrent seats and the fallback model gpt-4.1 300.
 *   Before capacity admission, main answered 623 of 1,000 (377 vendor_rate_limited), the vendors
 *   answered 691 429s, and gpt-4.1 took nothing. Run with the default queue wait (2 s) and 10 s.
 * - tenant fairness: two calm tenants' p99 latency alone, beside a tenant at its share, and
 *   beside that tenant flooding at twenty times its share.
 *
 * Everything (simulator, router, callers) shares one event loop, so the figures are a floor for
 * a router node of its own; the counts (who was served, 429s) are the point.
 */
import { createRouterSystem } from '../actors/index.js';
import { ConfigSchema, type Config } from '../src/config/index.js';
import type { CanonicalRequest } from '../src/domain/index.js';
import { FaultSchema, startSimulator } from '../src/simulator/index.js';
import { createVendorDispatcher } from '../src/vendors/index.js';
import { pointAt, seedConfig, simulatorSecrets } from '../test/helpers/simulator.js';

export interface Row {
  case: string;
  requests: number;
  ok: number;
  servedByFallback: number;
  rateLimited: number;
  otherFailures: number;
  vendor429s: number;
  p50Ms: number;
  p99Ms: number;
}

const ask = (i: number, maxTokens: number): CanonicalRequest => ({ model: 'claude-sonnet-4', maxTokens, messages: [{ role: 'user', content: [{ type: 'text', text: `capacity bench ${i}` }] }] });

interface Run {
  ok: boolean;
  model?: string | undefined;
  code?: string | undefined;
  retryAfterMs?: number | undefined;
  ms: number;
}

async function scenario(
  name: string,
  config: Config,
  environment: string,
  simulatorOptions: Partial<Parameters<typeof startSimulator>[0]>,
  traffic: (send: (i: number, options: { useCase: string; tenant?: string }) => Promise<Run>) => Promise<Run[]>,
  prepare: (simulator: Awaited<ReturnType<typeof startSimulator>>) => void = () => undefined,
): Promise<Row> {
  const simulator = await startSimulator({ config, seed: 21, ...simulatorOptions });
  prepare(simulator);
  const dispatcher = createVendorDispatcher();
  const system = createRouterSystem(pointAt(config, simulator), { secrets: simulatorSecrets(simulator), dispatcher }, { environment, ttftLimitMs: 10_000 });
  const send = async (i: number, options: { useCase: string; tenant?: string }): Promise<Run> => {
    const started = performance.now();
    const stream = system.stream(ask(i, 100), options);
    for await (const event of stream) void event;
    const out = await stream.outcome;
    return { ok: out.ok, model: out.servedBy?.model, code: out.failure?.code, retryAfterMs: out.failure?.retryAfterMs, ms: performance.now() - started };
  };
  const runs = await traffic(send);
  const stats = Object.values(simulator.simulation.stats.snapshot());
  await system.stop();
  await dispatcher.close();
  await simulator.close();
  const times = runs.map((r) => r.ms).sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? NaN;
  return {
    case: name,
    requests: runs.length,
    ok: runs.filter((r) => r.ok).length,
    servedByFallback: runs.filter((r) => r.ok && r.model !== 'claude-sonnet-4').length,
    rateLimited: runs.filter((r) => r.code === 'rate_limited').length,
    otherFailures: runs.filter((r) => !r.ok && r.code !== 'rate_limited').length,
    vendor429s: stats.reduce((sum, s) => sum + s.rateLimited, 0),
    p50Ms: at(0.5),
    p99Ms: at(0.99),
  };
}

async function brownout(queueWaitMs: number): Promise<Row> {
  const seeded = await seedConfig();
  const config = { ...seeded, capacity: { ...seeded.capacity, queueWaitMs } };
  return scenario(
    `brownout, 1,000 flagship streams, queue wait ${queueWaitMs / 1000} s`,
    config,
    'us_prod',
    { latencyScale: 0.2 },
    (send) => Promise.all(Array.from({ length: 1000 }, (_, i) => send(i, { useCase: 'conversation_serving' }))),
    (simulator) => {
      for (const vendorRegion of ['vertex/us-east5', 'anthropic', 'bedrock/us-east-1']) simulator.simulation.faults.add(FaultSchema.parse({ vendorRegion, kind: 'brownout', factor: 5, durationMs: 120_000 }));
    },
  );
}

function tenantConfig(): Config {
  return ConfigSchema.parse({
    vendorRegions: {
      'bedrock/us-east-1': {
        credentials: { accessKeyId: { env: 'AWS_ACCESS_KEY_ID' }, secretAccessKey: { env: 'AWS_SECRET_ACCESS_KEY' } },
        deployments: { 'claude-sonnet-4': { vendorModelId: 'anthropic.claude-sonnet-4-20250514-v1:0', quota: { rpm: 1_000_000, tpm: 1_000_000_000, concurrency: 40 } } },
      },
    },
    models: { 'claude-sonnet-4': {} },
    routes: { CLAUDE_SONNET_4: { test: 'bedrock/us-east-1' } },
    pools: { bulk: { priority: 'batch', useCases: ['otherwise'], shares: { '*': 50 } } },
    tenants: { calm1: { maxShare: 50, maxPriority: 'batch' }, calm2: { maxShare: 50, maxPriority: 'batch' }, flood: { maxShare: 25, maxPriority: 'batch' } },
  });
}

/**
 * `total` requests of one tenant, `concurrent` at a time. A refused caller waits the retry-after
 * it was given, as the client library's users are told to: a caller that ignores it and spins
 * would measure this shared event loop, not admission.
 */
async function tenantLoad(send: (i: number, options: { useCase: string; tenant?: string }) => Promise<Run>, tenant: string, total: number, concurrent: number): Promise<Run[]> {
  const runs: Run[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrent }, async () => {
      while (next < total) {
        const run = await send(next++, { useCase: 'otherwise', tenant });
        runs.push(run);
        if (run.retryAfterMs !== undefined) await new Promise((resolve) => setTimeout(resolve, run.retryAfterMs));
      }
    }),
  );
  return runs;
}

/**
 * Two calm tenants (5 in flight each) alone; beside a third tenant using exactly its share (5 in
 * flight, which the router serves like any other: in this one process its streams cost the calm
 * ones CPU too); and beside the same tenant flooding at twenty times its share (100 in flight).
 * The last against the second is the cost of the flood itself.
 */
async function tenants(mode: 'alone' | 'share' | 'flood'): Promise<Row[]> {
  const latency = { ttftMs: { median: 100, p95: 120 }, tokensPerSecond: { mean: 300, sd: 0 } };
  const names = { alone: 'calm tenants alone', share: 'calm tenants beside a tenant at its share', flood: 'calm tenants beside a flood at 20× its share' };
  let floodRuns: Run[] = [];
  const row = await scenario(names[mode], tenantConfig(), 'test', { latency: { 'bedrock/us-east-1': latency } }, async (send) => {
    const calm = Promise.all([tenantLoad(send, 'calm1', 300, 5), tenantLoad(send, 'calm2', 300, 5)]);
    const third = mode === 'alone' ? Promise.resolve([]) : tenantLoad(send, 'flood', mode === 'share' ? 150 : 600, mode === 'share' ? 5 : 100);
    const [[a, b], f] = await Promise.all([calm, third]);
    floodRuns = f;
    return [...a, ...b];
  });
  if (mode !== 'flood') return [row];
  const ok = floodRuns.filter((r) => r.ok).length;
  const rateLimited = floodRuns.filter((r) => r.code === 'rate_limited').length;
  return [row, { ...row, case: 'the flood itself', requests: floodRuns.length, ok, servedByFallback: 0, rateLimited, otherFailures: floodRuns.length - ok - rateLimited, p50Ms: NaN, p99Ms: NaN }];
}

export async function run(): Promise<Row[]> {
  const rows = [await brownout(2_000), await brownout(10_000)];
  for (const mode of ['alone', 'share', 'flood'] as const) rows.push(...(await tenants(mode)));
  return rows;
}
