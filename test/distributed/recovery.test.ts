/**
 * Nodes that fail fast and come back, as operators run them (`switchyard start` processes): streams
 * that live through a NATS server restart and through the loss of a cluster member with exactly
 * the text an undisturbed run gives, and a frozen node (SIGSTOP) that costs new requests only a
 * resend. Figures are printed for the record; the assertions are about outcomes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type SwitchyardClient } from '../../src/client/index.js';
import type { CanonicalRequest } from '../../src/domain/index.js';
import { FaultSchema, startSimulator, type RunningSimulator } from '../../src/simulator/index.js';
import { startNatsCluster, startNatsServer, type NatsClusterHandle, type NatsServerHandle } from '../helpers/nats-server.js';
import { simulatorFleet, startNodeProcess, type NodeProcess } from '../helpers/router-nodes.js';
import { seedConfig } from '../helpers/simulator.js';

const ask = (i: number): CanonicalRequest => ({ model: 'claude-sonnet-4', maxTokens: 400, messages: [{ role: 'user', content: [{ type: 'text', text: `recovery question ${i}` }] }] });

let simulator: RunningSimulator | undefined;
let server: NatsServerHandle | undefined;
let cluster: NatsClusterHandle | undefined;
const nodes: NodeProcess[] = [];
const clients: SwitchyardClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(nodes.splice(0).map((n) => n.kill('SIGKILL')));
  await simulator?.close();
  await server?.stop();
  await cluster?.stop();
  simulator = server = cluster = undefined;
});

/** The simulator, slow enough (a token every `dripMs`) that every stream is in flight when the network breaks. */
async function fleet(urls: string[], nodeIds: string[], dripMs: number): Promise<void> {
  simulator = await startSimulator({ config: await seedConfig(), latencyScale: 0.05, seed: 11 });
  if (dripMs > 0) for (const vendorRegion of ['anthropic', 'bedrock/us-west-2']) simulator.simulation.faults.add(FaultSchema.parse({ vendorRegion, kind: 'drip', intervalMs: dripMs }));
  const config = await simulatorFleet(simulator);
  nodes.push(...(await Promise.all(nodeIds.map((nodeId) => startNodeProcess({ nodeId, ...config, nats: urls })))));
}

async function client(servers: string[]): Promise<SwitchyardClient> {
  const c = await createClient({ servers }, { idleTimeoutMs: 5_000 });
  clients.push(c);
  return c;
}

/** When each of the last streams() ended, so a test can show they were all in flight through the break. */
let endedAt: number[] = [];

/** 30 streams at once; each resolves to its text, or to the error it ended with. */
function streams(pick: (i: number) => SwitchyardClient, offset = 0): Promise<(string | { failed: string })[]> {
  endedAt = [];
  return Promise.all(
    Array.from({ length: 30 }, async (_, i) => {
      let text = '';
      try {
        for await (const event of pick(i).stream(ask(offset + i), { useCase: 'otherwise' })) if (event.type === 'delta' && event.delta.type === 'text') text += event.delta.text;
        endedAt.push(Date.now());
        return text;
      } catch (error) {
        return { failed: `${(error as { code?: string }).code}: ${(error as Error).message}` };
      }
    }),
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Streams the simulator has begun, over every deployment. */
const streamsBegun = () => Object.values(simulator?.simulation.stats.snapshot() ?? {}).reduce((sum, s) => sum + s.streams, 0);

/** Waits until `count` more streams have begun at the vendors than `since`: every one is then in flight. */
async function inFlight(since: number, count: number): Promise<void> {
  for (let waited = 0; streamsBegun() < since + count; waited += 10) {
    if (waited > 15_000) throw new Error(`only ${streamsBegun() - since} of ${count} streams began`);
    await sleep(10);
  }
}

describe('recovery', () => {
  it('30 streams live through a 2 s restart of their only NATS server, each with exactly the undisturbed text', async () => {
    server = await startNatsServer();
    await fleet([server.url], ['n1', 'n2'], 60);
    const c = await client([server.url]);
    const undisturbed = await streams(() => c);
    expect(undisturbed.every((t) => typeof t === 'string' && t.length > 0)).toBe(true);

    const started = Date.now();
    const before = streamsBegun();
    const disturbed = streams(() => c);
    await inFlight(before, 30);
    await server.restart(2_000);
    const restarted = Date.now();
    const texts = await disturbed;
    // None had ended before the server came back: every one lived through the outage.
    expect(endedAt.filter((t) => t < restarted)).toEqual([]);
    const failed = texts.filter((t) => typeof t !== 'string');
    expect(failed).toEqual([]);
    expect(texts).toEqual(undisturbed);
    console.log(`NATS restart (2 s down) under 30 streams: 30 of 30 complete with the undisturbed text, in ${Date.now() - started} ms`);
  });

  it('30 streams live through the kill of one member of a three-server cluster, each with exactly the undisturbed text', async () => {
    cluster = await startNatsCluster(3);
    const urls = cluster.urls;
    await fleet(urls, ['n1', 'n2', 'n3'], 60);
    // Clients on every member, the killed one included, so some must move to another member mid-stream.
    const cs = await Promise.all(urls.map((_, i) => client([...urls.slice(i), ...urls.slice(0, i)])));
    const undisturbed = await streams((i) => cs[i % 3]!, 100);
    expect(undisturbed.every((t) => typeof t === 'string' && t.length > 0)).toBe(true);

    const before = streamsBegun();
    const disturbed = streams((i) => cs[i % 3]!, 100);
    await inFlight(before, 30);
    const killed = Date.now();
    await cluster.killMember(0);
    const texts = await disturbed;
    expect(endedAt.filter((t) => t < killed)).toEqual([]);
    expect(texts.filter((t) => typeof t !== 'string')).toEqual([]);
    expect(texts).toEqual(undisturbed);
    console.log('kill of a cluster member under 30 streams: 30 of 30 complete with the undisturbed text');
  });

  it('a node frozen for 10 s (SIGSTOP) under a steady request rate fails no new request', async () => {
    server = await startNatsServer();
    await fleet([server.url], ['n1', 'n2'], 0);
    const c = await client([server.url]);
    const request = (i: number) => c.complete({ ...ask(1_000 + i), maxTokens: 30 }, { useCase: 'otherwise' });
    // Warm both nodes, and take the undisturbed latency.
    const warm: number[] = [];
    for (let i = 0; i < 40; i++) {
      const t = Date.now();
      await request(i);
      warm.push(Date.now() - t);
    }
    warm.sort((a, b) => a - b);
    const baseline = warm[Math.floor(warm.length / 2)] ?? 0;

    const victim = nodes[1]!;
    const outcomes: Promise<{ ok: boolean; ms: number; code?: string }>[] = [];
    let frozen = false;
    let sent = 0;
    const rate = setInterval(() => {
      if (!frozen) return;
      const t = Date.now();
      outcomes.push(request(100 + sent++).then(() => ({ ok: true, ms: Date.now() - t }), (e: unknown) => ({ ok: false, ms: Date.now() - t, code: (e as { code?: string }).code })));
    }, 50);
    victim.child.kill('SIGSTOP');
    frozen = true;
    await sleep(10_000);
    frozen = false;
    clearInterval(rate);
    victim.child.kill('SIGCONT');
    const settled = await Promise.all(outcomes);
    const failures = settled.filter((o) => !o.ok);
    expect(settled.length).toBeGreaterThan(100);
    expect(failures).toEqual([]);
    const worst = Math.max(...settled.map((o) => o.ms));
    console.log(`SIGSTOP of one of two nodes for 10 s: ${settled.length} new requests at 20/s, ${failures.length} failed; worst latency ${worst} ms against a median of ${baseline} ms undisturbed (worst added ${worst - baseline} ms)`);
  }, 60_000);
});
