/**
 * Tenant fairness across a fleet: four router nodes, each its own process (`switchyard start`, as
 * operators run them; signed gossip every second), on a three-server NATS cluster, clients on all
 * three servers, the simulator holding Bedrock to 40 at once. Two
 * calm tenants (5 in flight each, 50 % shares of the bulk pool's 20) run alone, then beside a
 * tenant flooding at twenty times its 25 % share (100 in flight, waiting the retry-after it is
 * told), alternating, each run on a fresh fleet. The calm tenants' first WARM_UP requests warm the
 * fleet up; the flood starts then, and what is compared is the calm tenants' success and p99
 * latency from then on, with the flood and without it (issue 9: ≥ 99.9 %, p99 within 10 %).
 * The flood runs in a process of its own (flood-client.ts), as another application would.
 * `ROUNDS=n` and `MODES=alone,share,flood` narrow a run.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { gatherStatus } from '../src/cli/commands/status.js';
import { createClient, type SwitchyardClient } from '../src/client/index.js';
import { ConfigSchema } from '../src/config/index.js';
import { startSimulator } from '../src/simulator/index.js';
import { startNatsCluster } from '../test/helpers/nats-server.js';
import { FLEET_NODE_IDS, simulatorFleet, startNodeProcess } from '../test/helpers/router-nodes.js';

export interface Row {
  case: string;
  calmRequests: number;
  calmOk: number;
  calmP50Ms: number;
  calmP99Ms: number;
  /** The calm tenants' failures by code. */
  calmErrors: string;
  floodRequests: number;
  floodOk: number;
  /** This process's event-loop delay (clients, flood and simulator share it): how much of the latency is the harness's. */
  benchLoopDelayP99Ms: number;
  /** What the routers refused on the deployment, by reason. */
  refusedByRouters: string;
  /** Requests the routers handed back to be sent again, for want of room where a peer had some. */
  handedBack: number;
}

const DEPLOYMENT = 'claude-sonnet-4@bedrock/us-east-1';

const ROUNDS = Number(process.env.ROUNDS ?? 3);

const configData = {
  vendorRegions: {
    'bedrock/us-east-1': {
      credentials: { accessKeyId: { env: 'AWS_ACCESS_KEY_ID' }, secretAccessKey: { env: 'AWS_SECRET_ACCESS_KEY' } },
      deployments: { 'claude-sonnet-4': { vendorModelId: 'anthropic.claude-sonnet-4-20250514-v1:0', quota: { rpm: 1_000_000, tpm: 1_000_000_000, concurrency: 40 } } },
    },
  },
  models: { 'claude-sonnet-4': {} },
  routes: { CLAUDE_SONNET_4: { test: 'bedrock/us-east-1' } },
  pools: {
    flagship: { priority: 'critical', useCases: ['conversation_serving'], shares: { '*': 50 } },
    bulk: { priority: 'batch', useCases: ['otherwise'], shares: { '*': 50 } },
  },
  tenants: { calm1: { maxShare: 50, maxPriority: 'batch' }, calm2: { maxShare: 50, maxPriority: 'batch' }, flood: { maxShare: 25, maxPriority: 'batch' } },
};
const config = ConfigSchema.parse(configData);

const ask = (i: number) => ({ model: 'claude-sonnet-4', maxTokens: 30, messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: `fairness question ${i}` }] }] });

interface Outcome {
  ok: boolean;
  ms: number;
  code?: string;
}

/** A run's traffic so far, and when the measured part began (before it, the fleet warms up). */
interface Traffic {
  started: number;
  measuredFrom: number;
}

/**
 * `total` requests of one tenant, `concurrent` at a time (or until `until` settles); a refused
 * worker waits its retry-after. Outcomes of requests started before `traffic.measuredFrom` are dropped.
 */
async function load(clients: SwitchyardClient[], tenant: string, total: number, concurrent: number, traffic: Traffic, until?: Promise<unknown>): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  let next = 0;
  let done = false;
  void until?.then(() => (done = true));
  await Promise.all(
    Array.from({ length: concurrent }, async (_, w) => {
      while (until ? !done : next < total) {
        const i = next++;
        traffic.started++;
        const started = performance.now();
        const measured = started >= traffic.measuredFrom;
        try {
          await clients[(w + i) % clients.length]!.complete(ask(i), { useCase: 'otherwise', tenant });
          if (measured) outcomes.push({ ok: true, ms: performance.now() - started });
        } catch (error) {
          const { code, retryAfterMs } = error as { code?: string; retryAfterMs?: number };
          if (measured) outcomes.push({ ok: false, ms: performance.now() - started, code });
          if (retryAfterMs) await new Promise((resolve) => setTimeout(resolve, Math.min(retryAfterMs, 1_000)));
        }
      }
    }),
  );
  return outcomes;
}

/**
 * The third tenant in a process of its own (flood-client.ts), as another application would be:
 * started and connected before the run, so its start-up's CPU is not in what is measured, and
 * let loose by `go`.
 */
async function startFlood(url: string, inFlight: number): Promise<{ go(): void; stop(): Promise<{ requests: number; ok: number }> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./flood-client.ts', import.meta.url)), url, 'flood', String(inFlight)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const read = lines[Symbol.asyncIterator]();
  await read.next();
  return {
    go: () => child.stdin.write('go\n'),
    async stop() {
      child.kill('SIGTERM');
      const last = await read.next();
      await once(child, 'exit');
      return JSON.parse(String(last.value)) as { requests: number; ok: number };
    },
  };
}

/** Calm requests before the measured part: the fleet has reported every tenant by then. */
const WARM_UP = 60;

export async function run(): Promise<Row[]> {
  const cluster = await startNatsCluster(3);
  const latency = { ttftMs: { median: 100, p95: 120 }, tokensPerSecond: { mean: 100, sd: 0 } };
  const simulator = await startSimulator({ config, seed: 11, latency: { 'bedrock/us-east-1': latency } });
  const fleet = await simulatorFleet(simulator, configData);
  const observer = await connect({ servers: cluster.urls });
  const clients = await Promise.all(cluster.urls.map((url) => createClient({ servers: [url] }, { idleTimeoutMs: 10_000 })));
  const rows: Row[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of (process.env.MODES?.split(',') ?? ['alone', 'share', 'flood']) as ('alone' | 'share' | 'flood')[]) {
        const nodes = await Promise.all(FLEET_NODE_IDS.slice(0, 4).map((nodeId, i) => startNodeProcess({ nodeId, ...fleet, nats: [cluster.urls[i % 3]!], environment: 'test' })));
        // Every node hears the other three before traffic starts.
        for (let waited = 0; ; waited += 100) {
          const { nodes: states } = await gatherStatus(observer);
          if (states.length === 4 && states.every((n) => n.peers?.length === 3)) break;
          if (waited > 20_000) throw new Error('the four router nodes did not learn each other');
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        const third = mode === 'alone' ? undefined : await startFlood(cluster.urls[0]!, mode === 'flood' ? 100 : 5);
        const traffic: Traffic = { started: 0, measuredFrom: Infinity };
        const calm = Promise.all([load(clients, 'calm1', 150, 5, traffic), load(clients, 'calm2', 150, 5, traffic)]).then((runs) => runs.flat());
        while (traffic.started < WARM_UP) await new Promise((resolve) => setTimeout(resolve, 10));
        traffic.measuredFrom = performance.now();
        const loop = monitorEventLoopDelay({ resolution: 10 });
        loop.enable();
        third?.go();
        const calmRuns = await calm;
        const floodRuns = (await third?.stop()) ?? { requests: 0, ok: 0 };
        loop.disable();
        const refused: Record<string, number> = {};
        const { nodes: states } = await gatherStatus(observer);
        for (const n of states) for (const [k, v] of Object.entries(n.capacity?.[DEPLOYMENT]?.refused ?? {})) refused[k] = (refused[k] ?? 0) + v;
        await Promise.all(nodes.map((n) => n.kill("SIGTERM")));
        const times = calmRuns.filter((r) => r.ok).map((r) => r.ms).sort((a, b) => a - b);
        const at = (q: number) => Math.round(times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? NaN);
        rows.push({
          case: `round ${round + 1}: calm tenants ${{ alone: 'alone', share: 'beside a third tenant at its share', flood: 'beside that tenant flooding at 20× its share' }[mode]}`,
          calmRequests: calmRuns.length,
          calmOk: times.length,
          calmP50Ms: at(0.5),
          calmP99Ms: at(0.99),
          calmErrors: JSON.stringify(calmRuns.filter((r) => !r.ok).reduce<Record<string, number>>((acc, r) => ((acc[r.code ?? '?'] = (acc[r.code ?? '?'] ?? 0) + 1), acc), {})),
          floodRequests: floodRuns.requests,
          floodOk: floodRuns.ok,
          benchLoopDelayP99Ms: Math.round(loop.percentile(99) / 1e6),
          refusedByRouters: JSON.stringify(Object.fromEntries(Object.entries(refused).filter(([, v]) => v > 0))),
          handedBack: states.reduce((total, n) => total + (n.counts.handedBack ?? 0), 0),
        });
        console.log(JSON.stringify(rows.at(-1)));
      }
    }
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await observer.close();
    await simulator.close();
    await cluster.stop();
  }
  return rows;
}
