/**
 * Admission in a running router against the simulator (its quotas enforced): a request is admitted
 * before it is sent, so a full or throttled deployment is skipped rather than sent a request its
 * vendor would refuse, and when nothing has room the caller gets a typed `rate_limited`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createRouterSystem, type RouterSystem } from '../../actors/index.js';
import type { Config, RouteNode } from '../../src/config/index.js';
import type { CanonicalRequest } from '../../src/domain/index.js';
import { FaultSchema, type FaultSpecInput, type RunningSimulator } from '../../src/simulator/index.js';
import { seededRandom } from '../../src/simulator/random.js';
import { createVendorDispatcher } from '../../src/vendors/index.js';
import { seedConfig, simulatorSecrets, startTestSimulator } from '../helpers/simulator.js';

const ANTHROPIC = 'claude-sonnet-4@anthropic';
const BEDROCK = 'claude-sonnet-4@bedrock/us-west-2';
const ask = (text: string): CanonicalRequest => ({ model: 'claude-sonnet-4', maxTokens: 20, messages: [{ role: 'user', content: [{ type: 'text', text }] }] });

let simulator: RunningSimulator;
let system: RouterSystem;
const dispatcher = createVendorDispatcher({ keepAliveTimeoutMs: 10 });

/**
 * The seed config without pools and fallback, Claude's test route (Sequence anthropic,
 * bedrock/us-west-2, unless `route` says otherwise) at concurrency 1 each (or `concurrency`).
 */
async function setup(queueWaitMs = 2_000, over: { concurrency?: number; route?: RouteNode; random?: () => number; tenants?: Config['tenants'] } = {}) {
  const seed = await seedConfig();
  const vendorRegions = structuredClone(seed.vendorRegions);
  for (const id of ['anthropic', 'bedrock/us-west-2']) {
    const d = vendorRegions[id]!.deployments['claude-sonnet-4']!;
    d.quota = { ...d.quota, rpm: 100_000, concurrency: over.concurrency ?? 1 };
  }
  const routes = over.route ? { ...seed.routes, 'claude-sonnet-4': { ...seed.routes['claude-sonnet-4'], test: { otherwise: over.route } } } : seed.routes;
  const config: Config = { ...seed, vendorRegions, routes, pools: {}, tenants: over.tenants ?? seed.tenants, models: { ...seed.models, 'claude-sonnet-4': { family: 'claude' } }, capacity: { ...seed.capacity, queueWaitMs } };
  const started = await startTestSimulator({ config });
  simulator = started.simulator;
  system = createRouterSystem(started.config, { secrets: simulatorSecrets(simulator), dispatcher, ...(over.random ? { random: over.random } : {}) }, { environment: 'test' });
}

afterEach(async () => {
  await system?.stop();
  await simulator?.close();
});

const inject = (vendorRegion: string, fault: FaultSpecInput) => simulator.simulation.faults.add(FaultSchema.parse({ vendorRegion, durationMs: 60_000, ...fault }));
const vendorStats = (id: string) => simulator.simulation.stats.snapshot()[id] ?? { requests: 0, rateLimited: 0 };

describe('admission before the attempt', () => {
  it('counts a request until it ends, and not a moment after: in flight is 0 when complete() returns', async () => {
    await setup();
    for (let i = 0; i < 20; i++) {
      await system.complete(ask(`q${i}`));
      expect(system.fleet.localInFlight()).toBe(0);
      expect(system.fleet.capacity.outstanding()).toBe(0);
    }
    expect(system.fleet.capacity.status()[ANTHROPIC]?.admitted).toBe(20);
  });

  it('skips a full deployment for the next, without a vendor 429', async () => {
    await setup();
    inject('anthropic', { kind: 'drip', intervalMs: 20 });
    inject('bedrock/us-west-2', { kind: 'drip', intervalMs: 20 });
    const results = await Promise.all([system.complete(ask('first')), system.complete(ask('second'))]);
    expect(results.map((r) => r.servedBy.deployment).sort()).toEqual([ANTHROPIC, BEDROCK]);
    expect(results.every((r) => r.attempts === 1)).toBe(true);
    expect(vendorStats(ANTHROPIC).rateLimited + vendorStats(BEDROCK).rateLimited).toBe(0);
    expect(system.fleet.capacity.outstanding()).toBe(0);
  });

  it('does not try a deployment that asked to wait until its retry-after has passed', async () => {
    await setup();
    const fault = inject('anthropic', { kind: 'throttle', retryAfterS: 30 });
    expect((await system.complete(ask('meets the 429'))).servedBy.deployment).toBe(BEDROCK);
    simulator.simulation.faults.remove(fault.id);
    for (let i = 0; i < 5; i++) expect((await system.complete(ask(`later ${i}`))).servedBy.deployment).toBe(BEDROCK);
    // One request learned of the throttle; none was sent there again.
    expect(vendorStats(ANTHROPIC).requests).toBe(1);
  });

  it('when nothing has room, waits briefly, then refuses rate_limited with a retry-after', async () => {
    await setup(100);
    inject('anthropic', { kind: 'drip', intervalMs: 40 });
    inject('bedrock/us-west-2', { kind: 'drip', intervalMs: 40 });
    const outcomes = await Promise.allSettled([0, 1, 2].map((i) => system.complete(ask(`crowd ${i}`))));
    const refused = outcomes.filter((o) => o.status === 'rejected').map((o) => (o).reason as { code: string; retryAfterMs?: number; hint: string });
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(2);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ code: 'rate_limited' });
    expect(refused[0]!.retryAfterMs).toBeGreaterThan(0);
    expect(refused[0]!.hint).toMatch(/retryAfterMs/);
    expect(vendorStats(ANTHROPIC).rateLimited + vendorStats(BEDROCK).rateLimited).toBe(0);
    // The third request was refused once by each deployment, before it waited: counted once, though
    // its first round ran before its machine started and the waiting in the machine's `choose`.
    const refusals = [ANTHROPIC, BEDROCK].map((id) => Object.values(system.fleet.capacity.status()[id]!.refused).reduce((a, b) => a + b, 0));
    expect(refusals).toEqual([1, 1]);
  });

  it('a request that waited gets the seat a finished one gives back', async () => {
    await setup(5_000);
    inject('anthropic', { kind: 'drip', intervalMs: 10 });
    inject('bedrock/us-west-2', { kind: 'drip', intervalMs: 10 });
    const results = await Promise.all([0, 1, 2, 3].map((i) => system.complete(ask(`queued ${i}`))));
    expect(results).toHaveLength(4);
    expect(vendorStats(ANTHROPIC).rateLimited + vendorStats(BEDROCK).rateLimited).toBe(0);
    expect(system.fleet.capacity.outstanding()).toBe(0);
  });

  it('a 90/10 LoadBalanced split stays 90/10 with 20 requests in flight at once', async () => {
    const target = (vendorRegion: string): RouteNode => ({ type: 'Target', vendorRegion });
    const route: RouteNode = { type: 'LoadBalanced', members: [{ route: target('anthropic'), weight: 90 }, { route: target('bedrock/us-west-2'), weight: 10 }] };
    // One random draw per request from a seeded source: the split is the same on every run.
    await setup(2_000, { concurrency: 100, route, random: seededRandom(9) });
    inject('anthropic', { kind: 'drip', intervalMs: 1 });
    inject('bedrock/us-west-2', { kind: 'drip', intervalMs: 1 });
    const served = new Map<string, number>();
    let next = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < 1_000) {
          next++;
          peak = Math.max(peak, system.fleet.localInFlight());
          const { servedBy } = await system.complete(ask(`split ${next}`));
          served.set(servedBy.deployment, (served.get(servedBy.deployment) ?? 0) + 1);
        }
      }),
    );
    const share = (served.get(ANTHROPIC) ?? 0) / 1_000;
    console.log(`90/10 LoadBalanced at 20 in flight: ${(share * 100).toFixed(1)} / ${((1 - share) * 100).toFixed(1)} (peak ${peak} in flight)`);
    expect(peak).toBeGreaterThanOrEqual(15);
    expect(Math.abs(share - 0.9)).toBeLessThanOrEqual(0.02);
  });

  it("avoids a deployment whose rate-limit headers say its window is nearly spent, before any 429", async () => {
    await setup();
    // gpt-4.1's test route is Sequence(openai, azure/eastus). Someone outside Switchyard shares the
    // openai account and has used 25 of its 30 requests this minute.
    const openai = simulator.simulation.config.vendorRegions.openai!;
    const deployment = openai.deployments['gpt-4.1']!;
    deployment.quota = { ...deployment.quota, rpm: 30 };
    const other: CanonicalRequest = { ...ask('outside'), model: 'gpt-4.1' };
    for (let i = 0; i < 25; i++) simulator.simulation.begin(openai, deployment, other).finish(false);
    const served: string[] = [];
    for (let i = 0; i < 10; i++) served.push((await system.complete({ ...ask(`gpt ${i}`), model: 'gpt-4.1' })).servedBy.deployment);
    // The first answer said 4 are left: four more go there, then azure takes the rest.
    expect(served.filter((d) => d === 'gpt-4.1@openai')).toHaveLength(5);
    expect(served.filter((d) => d === 'gpt-4.1@azure/eastus')).toHaveLength(5);
    expect(vendorStats('gpt-4.1@openai').rateLimited).toBe(0);
    // Routing saw it: no room left there by the vendor's word, so azure came first.
    expect(system.fleet.view('gpt-4.1@openai')?.headroom).toBe(0);
    expect(system.fleet.capacity.vendorRequestsLeft('gpt-4.1@openai')).toBe(0);
  });

  it('turns a tenant refused for its share away at the door, before it costs a request actor, until one of its seats is released', async () => {
    const route: RouteNode = { type: 'Target', vendorRegion: 'anthropic' };
    await setup(2_000, { concurrency: 4, route, tenants: { calm: { maxShare: 100, maxPriority: 'batch' }, flood: { maxShare: 25, maxPriority: 'batch' } } });
    inject('anthropic', { kind: 'drip', intervalMs: 20 });
    const refusedForShare = () => system.fleet.capacity.status()[ANTHROPIC]?.refused.tenant ?? 0;
    const calm = system.complete(ask('calm'), { tenant: 'calm' });
    // With calm active, the flood may hold a quarter of the 4 seats.
    const held = system.complete(ask('flood 1'), { tenant: 'flood' });
    await expect(system.complete(ask('flood 2'), { tenant: 'flood' })).rejects.toMatchObject({ code: 'rate_limited' });
    expect(refusedForShare()).toBe(1);
    const atTheDoor = await system.complete(ask('flood 3'), { tenant: 'flood' }).catch((e: unknown) => e as { code: string; retryAfterMs?: number });
    expect(atTheDoor).toMatchObject({ code: 'rate_limited' });
    expect((atTheDoor as { retryAfterMs?: number }).retryAfterMs).toBeGreaterThan(0);
    // Refused without a second look at admission: no request actor, no new refusal counted.
    expect(refusedForShare()).toBe(1);
    // Its seat comes back: the door opens and the next one is served.
    await held;
    expect((await system.complete(ask('flood 4'), { tenant: 'flood' })).servedBy.deployment).toBe(ANTHROPIC);
    await calm;
    expect(refusedForShare()).toBe(1);
    expect(system.fleet.capacity.outstanding()).toBe(0);
  });
});
