/**
 * Many long streams held open at once on one router node (issue 12, item 5): STREAMS callers each
 * open a stream of about five seconds (the simulator at real speed: 100 tokens at about 20 a
 * second, after a first token at about 300 ms) at the same moment, over NATS through the client library, and read it to the end.
 * Two configs: one deployment whose concurrency quota allows them all, and two deployments
 * that can carry them only together, so the excess must go to the second one. Reports how many
 * completed, errors by code, stream duration and the router's resident memory.
 * `STREAMS` (default 1,000); `ROUTER_NODE_ARGS` passes flags to the router's node (`--heapsnapshot-signal=SIGUSR2`, V8 heap flags).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createClient } from '../src/client/index.js';
import { startNatsServer } from '../test/helpers/nats-server.js';
import { median } from './harness/load.js';
import { sampleMemory, switchyard, type Child } from './harness/processes.js';

const STREAMS = Number(process.env.STREAMS ?? 1000);

export interface Row {
  config: string;
  streams: number;
  completed: number;
  errors: string;
  p50Seconds: number;
  maxSeconds: number;
  routerMeanMb: number;
  routerMaxMb: number;
}

const deployment = (concurrency: number) => ({ vendorModelId: 'gpt-4.1-2025-04-14', quota: { rpm: 1_000_000, tpm: 1_000_000_000, concurrency } });
const configs: Record<string, object> = {
  'one deployment, quota for all': {
    vendorRegions: { openai: { credentials: { apiKey: { env: 'OPENAI_API_KEY' } }, deployments: { 'gpt-4.1': deployment(STREAMS * 2) } } },
    models: { 'gpt-4.1': {} },
    routes: { GPT_4_1: { bench: 'openai' } },
    routers: { maxInFlight: STREAMS * 2 },
  },
  'two deployments, each quota 60 %': {
    vendorRegions: {
      openai: { credentials: { apiKey: { env: 'OPENAI_API_KEY' } }, deployments: { 'gpt-4.1': deployment(Math.ceil(STREAMS * 0.6)) } },
      'azure/eastus': {
        credentials: { apiKey: { env: 'AZURE_OPENAI_API_KEY' } },
        baseUrl: 'https://example.openai.azure.com',
        apiVersion: '2024-10-21',
        deployments: { 'gpt-4.1': { ...deployment(Math.ceil(STREAMS * 0.6)), vendorModelId: 'gpt-41' } },
      },
    },
    models: { 'gpt-4.1': {} },
    routes: { GPT_4_1: { bench: { LoadBalanced: ['openai', 'azure/eastus'] } } },
    routers: { maxInFlight: STREAMS * 2 },
  },
};

export async function run(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const [name, config] of Object.entries(configs)) rows.push(await scenario(name, config));
  return rows;
}

async function scenario(name: string, config: object): Promise<Row> {
  const nats = await startNatsServer();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'switchyard-held-'));
  const configFile = path.join(dir, 'switchyard.config.json');
  await writeFile(configFile, JSON.stringify(config));
  const latencyFile = path.join(dir, 'latency.json');
  const profile = { ttftMs: { median: 300, p95: 600 }, tokensPerSecond: { mean: 20, sd: 2 } };
  await writeFile(latencyFile, JSON.stringify({ openai: profile, 'azure/eastus': profile }));
  const children: Child[] = [];
  try {
    const sim = await switchyard(['simulate', '--config', configFile, '--latency', latencyFile, '--json'], { ready: /^\{/ });
    children.push(sim);
    const simulator = JSON.parse(sim.line) as { admin: string };
    const router = await switchyard(['start', '--config', configFile, '--env', 'bench', '--node-id', 'held-1', '--simulator', simulator.admin, '--log-level', 'error'], {
      env: { NATS_URL: nats.url },
      ready: /serving environment/,
      nodeArgs: (process.env.ROUTER_NODE_ARGS ?? '').split(' ').filter(Boolean),
    });
    children.push(router);
    const client = await createClient({ servers: nats.url });
    const request = { model: 'gpt-4.1', maxTokens: 100, messages: [{ role: 'user' as const, content: 'Tell me a long story about routers.' }] };
    const memory = sampleMemory({ router: router.process.pid! });
    const errors: Record<string, number> = {};
    const seconds: number[] = [];
    let completed = 0;
    let done = 0;
    const progress = setInterval(() => console.log(`${name}: ${done}/${STREAMS} ended, ${completed} completed`), 2000);
    await Promise.all(
      Array.from({ length: STREAMS }, async () => {
        const started = performance.now();
        try {
          let ended = false;
          for await (const event of client.stream(request)) if (event.type === 'end') ended = true;
          if (ended) {
            completed++;
            seconds.push((performance.now() - started) / 1000);
          }
        } catch (error) {
          const code = (error as { code?: string }).code ?? 'unknown';
          errors[code] = (errors[code] ?? 0) + 1;
        } finally {
          done++;
        }
      }),
    );
    clearInterval(progress);
    const mb = memory.stop().router!;
    await client.close();
    const row = {
      config: name,
      streams: STREAMS,
      completed,
      errors: Object.entries(errors).map(([code, n]) => `${code} ${n}`).join(', ') || 'none',
      p50Seconds: median(seconds),
      maxSeconds: Math.max(...seconds),
      routerMeanMb: Math.round(mb.meanMb),
      routerMaxMb: Math.round(mb.maxMb),
    };
    console.log(JSON.stringify(row));
    if (process.env.DEBUG) {
      const varz = (await (await fetch(`http://127.0.0.1:${nats.monitorPort}/varz`)).json()) as Record<string, unknown>;
      console.log('nats slow consumers', varz.slow_consumers, varz.slow_consumer_stats, router.stderr());
    }
    return row;
  } finally {
    for (const c of children.reverse()) await c.stop();
    await nats.stop();
  }
}
