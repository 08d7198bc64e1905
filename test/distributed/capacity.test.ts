/**
 * Capacity across the fleet, as it runs: four router nodes on a three-server NATS cluster, signed
 * gossip every 200 ms, the vendor simulator enforcing its quotas, clients using the library. The
 * vendor's own count is the judge: how many requests it was asked to hold at once, and how many it
 * refused. Figures are printed for the record; timings live in bench/capacity.bench.ts.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouterNode, type RouterNode } from '../../actors/node.js';
import type { DeploymentCapacityStatus } from '../../src/capacity/index.js';
import { createClient, type SwitchyardClient } from '../../src/client/index.js';
import { ConfigSchema, type Config } from '../../src/config/index.js';
import type { Priority } from '../../src/domain/index.js';
import { configForSimulator, simulatorSecretsFor, startSimulator, type RunningSimulator } from '../../src/simulator/index.js';
import { generateSigner } from '../../src/transport/index.js';
import { startNatsCluster, type NatsClusterHandle } from '../helpers/nats-server.js';

const LOAD = 'claude-sonnet-4@anthropic';
const PER_MINUTE = 'claude-sonnet-4@vertex/us-east5';
const RPM = 100;
const POOLED = 'claude-sonnet-4@bedrock/us-east-1';
const Q = 20;
const big = { rpm: 1_000_000, tpm: 1_000_000_000 };

const config: Config = ConfigSchema.parse({
  vendorRegions: {
    anthropic: { credentials: { apiKey: { env: 'ANTHROPIC_API_KEY' } }, deployments: { 'claude-sonnet-4': { vendorModelId: 'claude-sonnet-4-20250514', quota: { ...big, concurrency: Q } } } },
    'bedrock/us-east-1': {
      credentials: { accessKeyId: { env: 'AWS_ACCESS_KEY_ID' }, secretAccessKey: { env: 'AWS_SECRET_ACCESS_KEY' } },
      deployments: { 'claude-sonnet-4': { vendorModelId: 'anthropic.claude-sonnet-4-20250514-v1:0', quota: { ...big, concurrency: 40 } } },
    },
    'vertex/us-east5': {
      credentials: { serviceAccount: { env: 'GOOGLE_APPLICATION_CREDENTIALS' } },
      projectId: 'switchyard-test',
      deployments: { 'claude-sonnet-4': { vendorModelId: 'claude-sonnet-4@20250514', quota: { ...big, rpm: RPM, concurrency: 1_000 } } },
    },
  },
  models: { 'claude-sonnet-4': {} },
  routes: { CLAUDE_SONNET_4: { test: { load_test: 'anthropic', per_minute: 'vertex/us-east5', otherwise: 'bedrock/us-east-1' } } },
  pools: {
    // The flagship keeps half of Bedrock; the bulk pool the other half. Anthropic is reserved by neither.
    flagship: { priority: 'critical', useCases: ['conversation_serving'], shares: { [POOLED]: 50 } },
    bulk: { priority: 'batch', useCases: ['otherwise'], shares: { [POOLED]: 50 } },
  },
  tenants: {
    acme: { maxShare: 100, maxPriority: 'critical' },
    worker: { maxShare: 100, maxPriority: 'batch' },
    flood: { maxShare: 25, maxPriority: 'batch' },
    calm1: { maxShare: 50, maxPriority: 'batch' },
    calm2: { maxShare: 50, maxPriority: 'batch' },
  },
});

let cluster: NatsClusterHandle;
let simulator: RunningSimulator;
const nodes: RouterNode[] = [];
const connections: NatsConnection[] = [];
const clients: SwitchyardClient[] = [];

const ask = (i: number) => ({ model: 'claude-sonnet-4', maxTokens: 30, messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: `capacity question ${i}` }] }] });

interface Outcome {
  ok: boolean;
  code?: string;
}

/**
 * Runs `total` requests, `concurrent` at a time, spread over the clients; resolves with each
 * outcome. With `until`, it keeps going until that settles instead, and a refused worker waits
 * the retry-after it was told, as callers are asked to (one that spins at once measures this one
 * shared CPU, not admission).
 */
async function load(total: number, concurrent: number, options: { useCase: string; tenant: string; priority?: Priority }, until?: Promise<unknown>): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  let next = 0;
  let done = false;
  void until?.then(() => (done = true));
  const worker = async (w: number) => {
    while (until ? !done : next < total) {
      const i = next++;
      try {
        await clients[(w + i) % clients.length]!.complete(ask(i), options);
        outcomes.push({ ok: true });
      } catch (error) {
        const { code, retryAfterMs } = error as { code?: string; retryAfterMs?: number };
        outcomes.push({ ok: false, code });
        if (until && retryAfterMs) await new Promise((resolve) => setTimeout(resolve, Math.min(retryAfterMs, 1_000)));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrent }, (_, w) => worker(w)));
  return outcomes;
}

const capacityOf = (deployment: string): DeploymentCapacityStatus[] => nodes.map((n) => n.system.fleet.capacity.status()[deployment]!);
const vendor = (deployment: string) => {
  const d = Object.values(config.vendorRegions).flatMap((vr) => Object.values(vr.deployments)).find((x) => x.id === deployment)!;
  return { ...simulator.simulation.quotaState(d), rateLimited: simulator.simulation.stats.snapshot()[deployment]?.rateLimited ?? 0 };
};
/** Admissions the four nodes refused on a deployment so far, by reason. */
const refusalsBy = (deployment: string) => capacityOf(deployment).reduce<Record<string, number>>((acc, c) => (Object.entries(c.refused).forEach(([k, v]) => (acc[k] = (acc[k] ?? 0) + v)), acc), {});
const successRate = (outcomes: Outcome[]) => outcomes.filter((o) => o.ok).length / outcomes.length;
const codes = (outcomes: Outcome[]) => outcomes.reduce<Record<string, number>>((acc, o) => ((acc[o.code ?? 'ok'] = (acc[o.code ?? 'ok'] ?? 0) + 1), acc), {});

beforeAll(async () => {
  cluster = await startNatsCluster(3);
  // Each answer holds its seat about 0.4 s: 100 ms to the first token, then 30 tokens at 100 a second.
  const latency = { ttftMs: { median: 100, p95: 120 }, tokensPerSecond: { mean: 100, sd: 0 } };
  simulator = await startSimulator({ config, seed: 11, latency: { anthropic: latency, 'bedrock/us-east-1': latency, 'vertex/us-east5': { ttftMs: { median: 20, p95: 30 }, tokensPerSecond: { mean: 1000, sd: 0 } } } });
  const signers = ['c1', 'c2', 'c3', 'c4'].map((id) => ({ id, ...generateSigner() }));
  const routed: Config = { ...configForSimulator(config, simulator.endpoints()), routers: { ...config.routers, trustedKeys: Object.fromEntries(signers.map((s) => [s.id, [s.signer.publicKey]])) } };
  for (const [i, { id, signer }] of signers.entries()) {
    const nc = await connect({ servers: cluster.urls[i % 3], name: id });
    connections.push(nc);
    nodes.push(
      startRouterNode({ connection: nc, config: routed, nodeId: id, deps: { secrets: simulatorSecretsFor(config, simulator.credentials) }, system: { environment: 'test' }, graceMs: 2_000, gossipIntervalMs: 500, signer }),
    );
  }
  for (let i = 0; i < 3; i++) clients.push(await createClient({ servers: [cluster.urls[i]!] }, { idleTimeoutMs: 10_000 }));
  // Every node hears the other three before traffic starts.
  for (let waited = 0; !nodes.every((n) => n.gossip.peers().length === 3); waited += 50) {
    if (waited > 15_000) throw new Error('the four router nodes did not learn each other');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(nodes.map((n) => n.drain(500)));
  await Promise.all(connections.map((c) => c.close()));
  await simulator?.close();
  await cluster?.stop();
});

describe('capacity across four router nodes', () => {
  it(`four nodes never ask the vendor to hold more than its quota of ${Q}`, async () => {
    const outcomes = await load(400, 120, { useCase: 'load_test', tenant: 'acme' });
    const seen = vendor(LOAD);
    const admitted = capacityOf(LOAD).reduce((sum, c) => sum + c.admitted, 0);
    console.log(`4 nodes, quota ${Q}: vendor asked to hold at most ${seen.peakConcurrencyAsked} (overshoot ${((seen.peakConcurrencyAsked / Q - 1) * 100).toFixed(1)} %), vendor 429s ${seen.rateLimited}; outcomes ${JSON.stringify(codes(outcomes))}`);
    expect(outcomes).toHaveLength(400);
    expect(admitted).toBeGreaterThan(Q);
    expect(seen.peakConcurrencyAsked).toBeLessThanOrEqual(Math.floor(Q * 1.02));
    expect(seen.rateLimited).toBe(0);
    // Whatever was not served was refused by Switchyard itself, typed, with nothing lost.
    expect(outcomes.every((o) => o.ok || o.code === 'rate_limited')).toBe(true);
    for (const node of nodes) expect(node.system.fleet.capacity.outstanding()).toBe(0);
  }, 60_000);

  it(`four nodes never send the vendor more than its ${RPM} requests a minute`, async () => {
    const outcomes = await load(300, 40, { useCase: 'per_minute', tenant: 'acme' });
    const seen = vendor(PER_MINUTE);
    const served = outcomes.filter((o) => o.ok).length;
    // What the vendor was asked in the minute: what it served and what it refused.
    const asked = served + seen.rateLimited;
    console.log(`4 nodes, quota ${RPM} rpm: vendor asked ${asked} in the minute (overshoot ${((asked / RPM - 1) * 100).toFixed(1)} %), vendor 429s ${seen.rateLimited}; outcomes ${JSON.stringify(codes(outcomes))}`);
    expect(served).toBeGreaterThan(RPM / 2);
    expect(asked).toBeLessThanOrEqual(Math.floor(RPM * 1.02));
    expect(outcomes.every((o) => o.ok || o.code === 'rate_limited' || o.code === 'vendor_rate_limited')).toBe(true);
  }, 60_000);

  it('the flagship keeps its success beside a batch flood at ten times the remaining capacity, which never spends its reserve', async () => {
    const [flagship, flood] = await Promise.all([
      load(300, 10, { useCase: 'conversation_serving', tenant: 'acme' }),
      load(1_500, 300, { useCase: 'otherwise', tenant: 'worker', priority: 'critical' }),
    ]);
    const books = capacityOf(POOLED);
    const floodAdmitted = books.reduce((sum, c) => sum + (c.pools.bulk?.own.concurrency ?? 0), 0);
    const borrowedByBulk = books.reduce((sum, c) => sum + (c.borrowed.bulk ?? 0), 0);
    const taken = nodes.reduce((sum, n) => sum + n.counts().taken, 0);
    console.log(`taken ${taken}, vendor peak asked ${vendor(POOLED).peakConcurrencyAsked}`);
    console.log(`flagship ${(successRate(flagship) * 100).toFixed(2)} % of ${flagship.length} ${JSON.stringify(codes(flagship))}; flood ${JSON.stringify(codes(flood))}; flood admissions into the flagship's reserve ${borrowedByBulk}; vendor 429s ${vendor(POOLED).rateLimited}`);
    expect(successRate(flagship)).toBeGreaterThanOrEqual(0.999);
    expect(flood.filter((o) => o.ok).length).toBeGreaterThan(0);
    expect(flood.filter((o) => o.code === 'rate_limited').length).toBeGreaterThan(0);
    expect(borrowedByBulk).toBe(0);
    expect(floodAdmitted).toBe(0);
    expect(vendor(POOLED).rateLimited).toBe(0);
  }, 60_000);

  it('when the flagship needs more than its reserve, it borrows from the idle bulk pool', async () => {
    const before = capacityOf(POOLED).reduce((sum, c) => sum + (c.borrowed.flagship ?? 0), 0);
    const outcomes = await load(300, 36, { useCase: 'conversation_serving', tenant: 'acme' });
    const borrowed = capacityOf(POOLED).reduce((sum, c) => sum + (c.borrowed.flagship ?? 0), 0) - before;
    console.log(`flagship at 36 in flight (reserve 20 of 40): ${JSON.stringify(codes(outcomes))}, ${borrowed} admissions borrowed from bulk`);
    expect(successRate(outcomes)).toBeGreaterThanOrEqual(0.999);
    expect(borrowed).toBeGreaterThan(0);
  }, 60_000);

  it('a tenant at twenty times its share is refused rate_limited while the other tenants all succeed (99.9 %)', async () => {
    // The bulk pool may use 20 of Bedrock's 40; flood's share is 25 % of it, 5 in flight: it asks for 100.
    const refusedBefore = refusalsBy(POOLED);
    // The flood keeps asking for as long as the calm tenants run.
    const calm = Promise.all([load(150, 5, { useCase: 'otherwise', tenant: 'calm1' }), load(150, 5, { useCase: 'otherwise', tenant: 'calm2' })]);
    const [[calm1, calm2], flood] = await Promise.all([calm, load(0, 100, { useCase: 'otherwise', tenant: 'flood' }, calm)]);
    const refused = capacityOf(POOLED).reduce((sum, c) => sum + c.refused.tenant, 0);
    const reasons = Object.fromEntries(Object.entries(refusalsBy(POOLED)).map(([k, v]) => [k, v - (refusedBefore[k] ?? 0)]));
    console.log(`calm tenants ${(successRate([...calm1, ...calm2]) * 100).toFixed(2)} % ${JSON.stringify(codes([...calm1, ...calm2]))}; flood ${JSON.stringify(codes(flood))}; refusals ${JSON.stringify(reasons)}`);
    expect(successRate([...calm1, ...calm2])).toBeGreaterThanOrEqual(0.999);
    // Five seats of answers of about 0.4 s are all it may have had: most of its asks are refused.
    expect(successRate(flood)).toBeLessThan(0.5);
    expect(flood.filter((o) => o.code === 'rate_limited').length).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
    expect(flood.every((o) => o.ok || o.code === 'rate_limited')).toBe(true);
  }, 60_000);
});
