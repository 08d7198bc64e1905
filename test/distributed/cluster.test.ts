/**
 * The distributed runtime as operators run it: a three-server NATS cluster, three router nodes as
 * child processes (`switchyard start`), the vendor simulator, and clients using the library.
 * Figures (retries, losses, time to open everywhere) are printed for the record; the assertions
 * are about outcomes: every request ends with an answer or a typed error, none hangs.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientError, createClient, type SwitchyardClient } from '../../src/client/index.js';
import { RequestFailedError, type CanonicalRequest, type StreamEvent } from '../../src/domain/index.js';
import { FaultSchema, fullAnswerTokens, startSimulator, type RunningSimulator } from '../../src/simulator/index.js';
import { gatherStatus } from '../../src/cli/commands/status.js';
import { startNatsCluster, type NatsClusterHandle } from '../helpers/nats-server.js';
import { simulatorFleet, startNodeProcess, type NodeProcess, type SimulatorFleet } from '../helpers/router-nodes.js';
import { seedConfig } from '../helpers/simulator.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
let cluster: NatsClusterHandle;
let simulator: RunningSimulator;
let fleet: SimulatorFleet;
const nodes: NodeProcess[] = [];
const clients: SwitchyardClient[] = [];
let observer: NatsConnection;
const servedByNode = new Map<string, number>();
const copiesEnded = new Map<string, number>();

const ask = (i: number, model = 'claude-sonnet-4'): CanonicalRequest => ({ model, maxTokens: 200, messages: [{ role: 'user', content: [{ type: 'text', text: `question number ${i}` }] }] });
const expected = (request: CanonicalRequest) => fullAnswerTokens(request, simulator.simulation.seed).join('');
const textOf = (events: StreamEvent[]) => events.map((e) => (e.type === 'delta' && e.delta.type === 'text' ? e.delta.text : '')).join('');

async function startNode(nodeId: string): Promise<NodeProcess> {
  const node = await startNodeProcess({ nodeId, ...fleet, nats: cluster.urls });
  nodes.push(node);
  return node;
}

beforeAll(async () => {
  cluster = await startNatsCluster(3);
  simulator = await startSimulator({ config: await seedConfig(), latencyScale: 0.05, seed: 3 });
  fleet = await simulatorFleet(simulator);
  await Promise.all(['n1', 'n2', 'n3'].map((id) => startNode(id)));
  observer = await connect({ servers: cluster.urls });
  observer.subscribe('sy.events.usage', {
    callback: (_e, msg) => {
      const { node, outcome } = msg.json<{ node: string; outcome: string }>();
      // A client whose first send is not acknowledged within its ack limit (a cold node on a busy
      // machine) sends a copy, and cancels whichever copy did not speak first: those end too.
      if (outcome === 'ok') servedByNode.set(node, (servedByNode.get(node) ?? 0) + 1);
      else copiesEnded.set(outcome, (copiesEnded.get(outcome) ?? 0) + 1);
    },
  });
  for (let i = 0; i < 3; i++) clients.push(await createClient({ servers: [...cluster.urls.slice(i), ...cluster.urls.slice(0, i)] }, { idleTimeoutMs: 3_000 }));
  // Every node has joined the queue group and answers before traffic starts.
  for (let waited = 0; (await gatherStatus(observer)).nodes.length < 3; waited += 100) {
    if (waited > 20_000) throw new Error('the three router nodes did not all answer sy.admin.state');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await observer?.close();
  await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
  await simulator?.close();
  await cluster?.stop();
});

/** Answers of a few seconds on the `otherwise` route (anthropic, bedrock/us-west-2), so a kill lands while nodes hold some. */
function slowAnswers(): { stop(): void } {
  const faults = ['anthropic', 'bedrock/us-west-2'].map((vendorRegion) => simulator.simulation.faults.add(FaultSchema.parse({ vendorRegion, kind: 'drip', intervalMs: 50, durationMs: 60_000 })));
  return { stop: () => faults.forEach((f) => simulator.simulation.faults.remove(f.id)) };
}

/** Polls `switchyard status` until `pick` gives a positive number, and returns it. */
async function waitForStatus(pick: (status: Awaited<ReturnType<typeof gatherStatus>>) => number, timeoutMs = 10_000): Promise<number> {
  for (const started = Date.now(); Date.now() - started < timeoutMs; ) {
    const value = pick(await gatherStatus(observer));
    if (value > 0) return value;
  }
  throw new Error('the condition did not hold in time');
}

describe('distributed runtime', () => {
  it('spreads requests from several clients across the nodes, plain and streaming, all answered whole', async () => {
    servedByNode.clear();
    copiesEnded.clear();
    const results = await Promise.all(
      Array.from({ length: 36 }, async (_, i) => {
        const client = clients[i % 3]!;
        const request = ask(i);
        if (i % 2 === 0) {
          const { response } = await client.complete(request, { useCase: 'conversation_serving' });
          return response.content[0]?.type === 'text' && response.content[0].text === expected(request);
        }
        const events: StreamEvent[] = [];
        for await (const event of client.stream(request, { useCase: 'otherwise' })) events.push(event);
        return textOf(events) === expected(request);
      }),
    );
    expect(results.every(Boolean)).toBe(true);
    await expect.poll(() => [...servedByNode.values()].reduce((a, b) => a + b, 0)).toBe(36);
    expect(servedByNode.size).toBeGreaterThanOrEqual(2);
    console.log('requests served per node:', Object.fromEntries(servedByNode), 'copies ended otherwise:', Object.fromEntries(copiesEnded));
  });

  it('ends every request with an answer or a typed error when a router node is killed -9 under load', async () => {
    const victim = nodes.find((n) => n.nodeId === 'n3')!;
    const slow = slowAnswers();
    let streaming = 0;
    const outcomes = Array.from({ length: 30 }, (_, i) =>
      (async () => {
        const events: StreamEvent[] = [];
        const stream = clients[i % 3]!.stream(ask(100 + i), { useCase: 'otherwise' });
        for await (const event of stream) if (events.push(event) === 1) streaming++;
        const { requestId } = await stream.result;
        return { ok: true as const, retried: requestId.endsWith('-r1'), whole: textOf(events) === expected(ask(100 + i)) };
      })().catch((error: unknown) => ({ ok: false as const, error })),
    );
    // Killed once all thirty stream (so each is on its node for good, none sent again), not after a
    // guessed time; what the victim holds then can only shrink before the kill.
    for (const started = Date.now(); streaming < 30; await new Promise((resolve) => setTimeout(resolve, 10))) {
      if (Date.now() - started > 10_000) throw new Error(`only ${streaming} of 30 streams began`);
    }
    const held = (await gatherStatus(observer)).nodes.find((n) => n.nodeId === 'n3')?.counts.inFlight ?? 0;
    await victim.kill('SIGKILL');
    const settled = await Promise.all(outcomes);
    slow.stop();
    const failures = settled.filter((o) => !o.ok);
    for (const failure of failures) {
      expect(failure.error instanceof ClientError || failure.error instanceof RequestFailedError).toBe(true);
    }
    const answered = settled.filter((o) => o.ok);
    // All the nodes left hold is answered, whole; only what the dead one held may fail.
    expect(held).toBeGreaterThan(0);
    expect(answered.length).toBeGreaterThanOrEqual(30 - held);
    expect(answered.every((o) => o.whole)).toBe(true);
    console.log(`kill -9 of a router node holding ${held} of 30: ${answered.length} answered (${answered.filter((o) => o.retried).length} after a retry on another node), ${failures.length} typed errors: ${JSON.stringify(failures.map((f) => (f.error as { code?: string }).code))}`);
    await startNode('n4');
  });

  it('ends every request with an answer or a typed error when a NATS server is killed under load', async () => {
    const slow = slowAnswers();
    const outcomes = Array.from({ length: 30 }, (_, i) =>
      clients[i % 3]!.complete(ask(200 + i), { useCase: 'otherwise' }).then(
        () => ({ ok: true as const }),
        (error: unknown) => ({ ok: false as const, error }),
      ),
    );
    await waitForStatus((status) => status.nodes.reduce((sum, n) => sum + n.counts.inFlight, 0));
    await cluster.killMember(0);
    const settled = await Promise.all(outcomes);
    slow.stop();
    const failures = settled.filter((o) => !o.ok);
    for (const failure of failures) expect(failure.error instanceof ClientError || failure.error instanceof RequestFailedError).toBe(true);
    console.log(`kill of a NATS server: ${settled.length - failures.length} answered, ${failures.length} lost with typed errors: ${JSON.stringify(failures.map((f) => (f.error as { code?: string }).code))}`);
    // Afterwards, every client and node has reconnected: requests flow again.
    const after = await Promise.all(clients.map((c, i) => c.complete(ask(300 + i), { useCase: 'otherwise' })));
    expect(after).toHaveLength(3);
  });

  it('opens a deployment on every node when traffic shows its vendor failing, and reports how fast', async () => {
    const deployment = 'claude-sonnet-4@anthropic';
    const openOn = new Map<string, number>();
    let firstFault: number | undefined;
    let stop = false;
    simulator.simulation.faults.add(FaultSchema.parse({ vendorRegion: 'anthropic', kind: 'outage', mode: '503', durationMs: 120_000 }));
    const baseline = simulator.simulation.stats.snapshot()[deployment]?.refusedByFault ?? 0;
    // Steady traffic from one client; the queue group spreads it, gossip shares what each node saw.
    const traffic = (async () => {
      let sent = 0;
      while (!stop) await Promise.all(Array.from({ length: 4 }, () => clients[0]!.complete(ask(400 + sent++), { useCase: 'otherwise' })));
      return sent;
    })();
    const started = Date.now();
    while (openOn.size < 3) {
      if ((simulator.simulation.stats.snapshot()[deployment]?.refusedByFault ?? 0) > baseline) firstFault ??= Date.now();
      const status = await gatherStatus(observer);
      for (const node of status.nodes) if (node.fleet.deployments[deployment] === 'open' && !openOn.has(node.nodeId)) openOn.set(node.nodeId, Date.now());
      expect(Date.now() - started).toBeLessThan(30_000);
    }
    stop = true;
    const sent = await traffic;
    const times = [...openOn.values()];
    console.log(
      `vendor outage: first node open ${Math.min(...times) - (firstFault ?? started)} ms after the first fault, last node ${Math.max(...times) - (firstFault ?? started)} ms after it (${sent} requests, all answered; status polled every ~300 ms)`,
    );
  });

  it('lists every node and its deployments in switchyard status --json', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['bin/switchyard.js', 'status', '--json', '--nats', cluster.urls.slice(1).join(',')], { cwd: root });
    const status = JSON.parse(stdout) as { nodes: { nodeId: string; peers: string[]; fleet: { deployments: Record<string, string> } }[]; deployments: Record<string, { merged: string }> };
    expect(status.nodes.map((n) => n.nodeId).sort()).toEqual(['n1', 'n2', 'n4']);
    // Their gossip is signed by keys the config trusts: each node counts the others as peers.
    for (const node of status.nodes) {
      expect([...node.peers].sort()).toEqual(['n1', 'n2', 'n4'].filter((id) => id !== node.nodeId));
    }
    for (const node of status.nodes) expect(Object.keys(node.fleet.deployments)).toContain('gpt-4.1@openai');
    expect(status.deployments['claude-sonnet-4@anthropic']?.merged).toBe('open');
  });

  it('drains a node on SIGTERM: requests in flight finish, and it exits 0', async () => {
    const node = nodes.find((n) => n.nodeId === 'n1')!;
    const inFlight = Array.from({ length: 6 }, (_, i) => clients[i % 3]!.complete(ask(500 + i), { useCase: 'otherwise' }));
    const exit = node.kill('SIGTERM');
    const settled = await Promise.allSettled(inFlight);
    expect(await exit).toBe(0);
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(6);
  });
});
