/**
 * One prober for the fleet, end to end: three router nodes on a three-server NATS cluster (signed
 * gossip every 200 ms), the simulator, a trickle of requests from clients on every server. Anthropic
 * goes down and later heals; Claude's test route falls back to Bedrock meanwhile. What each node
 * sends to Anthropic is counted where it leaves the node (an undici interceptor on its own
 * dispatcher), and the three counts add up to what the simulator was asked.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouterNode, type RouterNode } from '../../actors/node.js';
import { createClient, type SwitchyardClient } from '../../src/client/index.js';
import type { Config } from '../../src/config/index.js';
import { configForSimulator, FaultSchema, simulatorSecretsFor, startSimulator, type RunningSimulator } from '../../src/simulator/index.js';
import { generateSigner } from '../../src/transport/index.js';
import { createVendorDispatcher } from '../../src/vendors/index.js';
import { startNatsCluster, type NatsClusterHandle } from '../helpers/nats-server.js';
import { seedConfig } from '../helpers/simulator.js';

const ANTHROPIC = 'claude-sonnet-4@anthropic';
const INTERVAL_MS = 200;

let cluster: NatsClusterHandle;
let simulator: RunningSimulator;
const nodes: RouterNode[] = [];
const connections: NatsConnection[] = [];
const clients: SwitchyardClient[] = [];
const dispatchers: Dispatcher[] = [];
/** Requests each node sent to Anthropic, by node id. */
const sentToAnthropic = new Map<string, number>();

const ask = (i: number) => ({ model: 'claude-sonnet-4', maxTokens: 10, messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: `probe question ${i}` }] }] });
const transitions: string[] = [];
let lastStates: (string | undefined)[] = [];
const t0 = performance.now();
const states = () => {
  const now = nodes.map((n) => n.system.fleet.state(ANTHROPIC));
  now.forEach((s, i) => { if (s !== lastStates[i]) transitions.push(`${Math.round(performance.now() - t0)} p${i + 1} ${s}`); });
  lastStates = now;
  return now;
};

async function waitFor(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  for (const started = Date.now(); !condition(); ) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}: ${transitions.slice(0, 40).join('; ')}: ${states().join(", ")}; gossip ${JSON.stringify(nodes.map((n) => n.gossip.stats().dropped))}; sent ${JSON.stringify([...sentToAnthropic])}; simulator ${JSON.stringify(simulator.simulation.stats.snapshot())}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

beforeAll(async () => {
  cluster = await startNatsCluster(3);
  const config = await seedConfig();
  simulator = await startSimulator({ config, seed: 13, latencyScale: 0.05 });
  const anthropicOrigin = new URL(simulator.endpoints().anthropic!).origin;
  const signers = ['p1', 'p2', 'p3'].map((id) => ({ id, ...generateSigner() }));
  const routed: Config = { ...configForSimulator(config, simulator.endpoints()), pools: {}, routers: { ...config.routers, trustedKeys: Object.fromEntries(signers.map((s) => [s.id, [s.signer.publicKey]])) } };
  // Five faults open a breaker; each opening lasts 1 s, then two probes must succeed.
  const health = { consecutiveFaults: 5, baseOpenMs: 1_000, maxOpenMs: 1_000, probes: 2 };
  for (const [i, { id, signer }] of signers.entries()) {
    const dispatcher = createVendorDispatcher().compose((dispatch) => (options, handler) => {
      if (String(options.origin) === anthropicOrigin) sentToAnthropic.set(id, (sentToAnthropic.get(id) ?? 0) + 1);
      return dispatch(options, handler);
    });
    dispatchers.push(dispatcher);
    const nc = await connect({ servers: cluster.urls[i], name: id });
    connections.push(nc);
    nodes.push(
      startRouterNode({ connection: nc, config: routed, nodeId: id, deps: { secrets: simulatorSecretsFor(config, simulator.credentials), dispatcher }, system: { environment: 'test', health }, graceMs: 2_000, gossipIntervalMs: INTERVAL_MS, signer }),
    );
  }
  for (let i = 0; i < 3; i++) clients.push(await createClient({ servers: [cluster.urls[i]!] }, { idleTimeoutMs: 5_000 }));
  await waitFor(() => nodes.every((n) => n.gossip.peers().length === 2), 'the three nodes to meet');
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(nodes.map((n) => n.drain(500)));
  await Promise.all(connections.map((c) => c.close()));
  await Promise.all(dispatchers.map((d) => d.close()));
  await simulator?.close();
  await cluster?.stop();
});

describe('one prober for the fleet', () => {
  it('through an outage that heals, one node sends the probes, and its success closes the fleet within an interval', async () => {
    // A trickle: about 10 requests a second over the three clients, each answered (Bedrock stands in).
    let stop = false;
    let sent = 0;
    const failures: string[] = [];
    const trickle = (async () => {
      while (!stop) {
        const i = sent++;
        await clients[i % 3]!.complete(ask(i), { useCase: 'otherwise' }).catch((e: unknown) => failures.push(String((e as { code?: string }).code)));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();

    const outage = simulator.simulation.faults.add(FaultSchema.parse({ vendorRegion: 'anthropic', kind: 'outage', mode: '503', durationMs: 120_000 }));
    // A node that is not the prober waits half-open for the prober's verdict, sending nothing.
    const closed = (s: string | undefined) => s !== 'open' && s !== 'halfOpen';
    const seenOpen = new Set<number>();
    await waitFor(() => {
      states().forEach((s, i) => s === 'open' && seenOpen.add(i));
      return seenOpen.size === 3 && !states().some(closed);
    }, 'Anthropic to open on all three');
    const before = new Map(sentToAnthropic);
    const sentSince = (id: string) => (sentToAnthropic.get(id) ?? 0) - (before.get(id) ?? 0);
    const probesSince = () => nodes.reduce((sum, n) => sum + sentSince(n.nodeId), 0);

    // Two openings go by in the outage: each one's probe fails and opens it again.
    await waitFor(() => probesSince() >= 2, 'two probes to fail');
    await waitFor(() => states().every((s) => s === 'open'), 'the failed probe to reopen it on all three');
    simulator.simulation.faults.remove(outage.id);

    // The prober's success closes it; the other two follow on its digest.
    let proberClosedAt = 0;
    await waitFor(() => {
      if (!proberClosedAt && states().some(closed)) proberClosedAt = performance.now();
      return states().every(closed);
    }, 'all three to close after the outage healed');
    const closedWithinMs = performance.now() - proberClosedAt;
    stop = true;
    await trickle;

    const probers = nodes.map((n) => n.nodeId).filter((id) => sentSince(id) > 0);
    const asked = simulator.simulation.stats.snapshot()[ANTHROPIC]?.requests ?? 0;
    console.log(`probes after all opened, by node: ${JSON.stringify(Object.fromEntries(nodes.map((n) => [n.nodeId, sentSince(n.nodeId)])))}; the others closed ${closedWithinMs.toFixed(0)} ms after the prober (interval ${INTERVAL_MS} ms); ${sent} requests, failures ${JSON.stringify(failures)}`);
    expect(probers).toHaveLength(1);
    // Two failed probes, then the two that closed it; a probe in flight as a state changes may add one.
    expect(sentSince(probers[0]!)).toBeGreaterThanOrEqual(4);
    expect(sentSince(probers[0]!)).toBeLessThanOrEqual(6);
    expect([...sentToAnthropic.values()].reduce((a, b) => a + b, 0)).toBe(asked);
    expect(closedWithinMs).toBeLessThanOrEqual(INTERVAL_MS * 2);
    expect(failures).toEqual([]);
  }, 90_000);
});
