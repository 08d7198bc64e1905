/**
 * What a request pays for going through Switchyard, path by path, on one machine: straight to the
 * vendor (the baseline), through the client library over NATS to a router node, and through the
 * HTTP gateway (OpenAI shape) over NATS to the same node. Every part is its own process as in
 * production (`switchyard start`, `switchyard gateway`); this process only generates load. The
 * vendor is an OpenAI-protocol mock that answers at once (bench/harness/canned-vendor.ts), as in
 * the measurement issue 12 was filed with; it streams an event a write, one turn apart
 * (`MOCK_STREAM=whole`: all in one write). `VENDOR=simulator` puts `switchyard simulate` there
 * instead, which costs more CPU per request than the mock, CPU the router then lacks.
 *
 * Two phases, each run ROUNDS times with the paths interleaved, figures the median of the rounds:
 * latency under an open loop at RATE requests/s (plain: the whole answer; stream: the first
 * token), and throughput under a closed loop of CONCURRENCY in flight (streams read to the end),
 * with each process's resident memory sampled meanwhile. Issue 12 sets the targets.
 * `PHASES=latency,saturation`, `RATE`, `SECONDS`, `CONCURRENCY`, `ROUNDS`, `VENDOR=canned|simulator`;
 * `ROUTER_NODE_ARGS` / `GATEWAY_NODE_ARGS='--cpu-prof --cpu-prof-dir=DIR'` profile those processes.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { createClient } from '../src/client/index.js';
import { hashKey } from '../src/gateway/index.js';
import { startNatsServer } from '../test/helpers/nats-server.js';
import { closedLoop, median, openLoop, type Shot } from './harness/load.js';
import { cpuMs, harness, sampleMemory, switchyard, type Child } from './harness/processes.js';

export interface Row {
  phase: 'latency' | 'saturation';
  /** What answered as the vendor: the canned mock or the simulator. */
  vendor: string;
  path: string;
  mode: 'plain' | 'stream';
  requests: number;
  ok: number;
  /** Latency: the whole answer (plain) or its first token (stream), from when it was due. */
  p50Ms: number;
  p99Ms: number;
  /** Over the direct path's median of the same phase and mode. */
  addedP50Ms: number;
  addedP99Ms: number;
  /** Saturation: answers a second, the median round, with the slowest and fastest. */
  perSecond: number | string;
  perSecondRange: string;
  routerMaxMb: number | string;
  gatewayMaxMb: number | string;
  /** Saturation: CPU each process spent per request (user and system); 1,000 / this is requests a second per core. */
  routerCpuMs: number | string;
  gatewayCpuMs: number | string;
  vendorCpuMs: number | string;
  load1: number;
}

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const RATE = env('RATE', 250);
const SECONDS = env('SECONDS', 5);
const CONCURRENCY = env('CONCURRENCY', 50);
const ROUNDS = env('ROUNDS', 3);
const PHASES = (process.env.PHASES ?? 'latency,saturation').split(',');
const VENDOR = process.env.VENDOR ?? 'canned';
const MOCK_STREAM = process.env.MOCK_STREAM ?? 'token';
const nodeArgs = (name: string) => (process.env[name] ?? '').split(' ').filter(Boolean);
const KEY = 'sk-sy-bench-overhead-key-000000000000000000000';
/** The vendor sees its own model id; Switchyard's callers name the logical model. */
const body = (model: string, stream: boolean) => JSON.stringify({ model, max_tokens: 16, messages: [{ role: 'user', content: 'How much does the router add?' }], stream });
const canonical = { model: 'gpt-4.1', maxTokens: 16, messages: [{ role: 'user' as const, content: 'How much does the router add?' }] };

const config = (baseUrl?: string) => ({
  vendorRegions: {
    openai: {
      ...(baseUrl ? { baseUrl } : {}),
      credentials: { apiKey: { env: 'OPENAI_API_KEY' } },
      deployments: { 'gpt-4.1': { vendorModelId: 'gpt-4.1-2025-04-14', quota: { rpm: 10_000_000, tpm: 10_000_000_000, concurrency: 10_000 } } },
    },
  },
  models: { 'gpt-4.1': {} },
  routes: { GPT_4_1: { bench: 'openai' } },
  routers: { maxInFlight: 10_000 },
  gateway: { apiKeys: { bench: { sha256: hashKey(KEY), useCases: ['otherwise'], maxPriority: 'critical' } } },
});

/** How a shot ends: plain answers whole; streams at the first token (latency) or the last (saturation). */
type Mode = 'plain' | 'first-token' | 'whole-stream';
type Path = (mode: Mode) => Shot;

export async function run(): Promise<Row[]> {
  const nats = await startNatsServer();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'switchyard-overhead-'));
  const configFile = path.join(dir, 'switchyard.config.json');
  const children: Child[] = [];
  const dispatcher = new Agent({ connections: 256 });
  try {
    const vendor = await startVendor(configFile, children);
    const router = await switchyard(['start', '--config', configFile, '--env', 'bench', '--node-id', 'bench-1', ...vendor.routerArgs, '--log-level', 'warn'], {
      env: { NATS_URL: nats.url, ...vendor.routerEnv },
      ready: /serving environment/,
      nodeArgs: nodeArgs('ROUTER_NODE_ARGS'),
    });
    children.push(router);
    const gateway = await switchyard(['gateway', '--config', configFile, '--listen', '127.0.0.1:0', '--log-level', 'warn'], {
      env: { NATS_URL: nats.url },
      ready: /^Gateway serving/,
      nodeArgs: nodeArgs('GATEWAY_NODE_ARGS'),
    });
    children.push(gateway);
    const gatewayUrl = /(http:\/\/[\d.:]+)/.exec(gateway.line)![1]!;
    const client = await createClient({ servers: nats.url });

    const http = (url: string, key: string, model: string): Path => (mode) => async () => {
      const res = await request(url, { method: 'POST', dispatcher, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: body(model, mode !== 'plain') });
      if (mode !== 'first-token') {
        const text = await res.body.text();
        return res.statusCode === 200 && text.length > 0;
      }
      // The first token: the first bytes that carry content (the role chunk before it has "content":"").
      let seen = '';
      for await (const chunk of res.body) {
        seen += String(chunk);
        if (/"content":"[^"]/.test(seen)) {
          void res.body.text().catch(() => undefined);
          return res.statusCode === 200;
        }
      }
      return false;
    };
    const overNats: Path = (mode) => async () => {
      if (mode === 'plain') return (await client.complete(canonical)).response.content.length > 0;
      const events = client.stream(canonical)[Symbol.asyncIterator]();
      for (let next = await events.next(); !next.done; next = await events.next()) {
        if (next.value.type !== 'delta' || mode !== 'first-token') continue;
        // Read on to the end, as a real caller does, without holding up the timing.
        void (async () => {
          while (!(await events.next()).done);
        })().catch(() => undefined);
        return true;
      }
      return mode === 'whole-stream';
    };
    const paths: Record<string, Path> = {
      direct: http(`${vendor.url}/v1/chat/completions`, vendor.apiKey, 'gpt-4.1-2025-04-14'),
      'client over NATS': overNats,
      'gateway over NATS': http(`${gatewayUrl}/v1/chat/completions`, KEY, 'gpt-4.1'),
    };
    const pids: Record<string, number> = { router: router.process.pid!, gateway: gateway.process.pid!, vendor: vendor.pid };
    const rows: Row[] = [];
    if (PHASES.includes('latency')) rows.push(...(await latency(paths)));
    if (PHASES.includes('saturation')) rows.push(...(await saturation(paths, pids)));
    await client.close();
    return rows;
  } finally {
    for (const c of children.reverse()) await c.stop();
    await dispatcher.close();
    await nats.stop();
  }
}

/** The vendor every path ends at, with what the router needs to reach it; its config written to `configFile`. */
async function startVendor(configFile: string, children: Child[]): Promise<{ url: string; apiKey: string; pid: number; routerArgs: string[]; routerEnv: Record<string, string> }> {
  if (VENDOR === 'simulator') {
    await writeFile(configFile, JSON.stringify(config()));
    const sim = await switchyard(['simulate', '--config', configFile, '--latency-scale', '0', '--json'], { ready: /^\{/ });
    children.push(sim);
    const simulator = JSON.parse(sim.line) as { admin: string; endpoints: Record<string, string>; credentials: { apiKey: string } };
    return { url: simulator.endpoints.openai!, apiKey: simulator.credentials.apiKey, pid: sim.process.pid!, routerArgs: ['--simulator', simulator.admin], routerEnv: {} };
  }
  if (VENDOR !== 'canned') throw new Error(`VENDOR must be canned or simulator, not ${VENDOR}`);
  const mock = await harness('canned-vendor.ts', { ready: /^\{/, env: { MOCK_STREAM } });
  children.push(mock);
  const { url, apiKey } = JSON.parse(mock.line) as { url: string; apiKey: string };
  await writeFile(configFile, JSON.stringify(config(`${url}/v1`)));
  return { url, apiKey, pid: mock.process.pid!, routerArgs: [], routerEnv: { OPENAI_API_KEY: apiKey } };
}

async function latency(paths: Record<string, Path>): Promise<Row[]> {
  const runs = new Map<string, { requests: number; ok: number; p50Ms: number; p99Ms: number }[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of ['plain', 'first-token'] as const) {
      for (const [name, path] of Object.entries(paths)) {
        const result = await openLoop(path(mode), { rate: RATE, seconds: SECONDS });
        const errors = Object.entries(result.errors).map(([code, n]) => `${code} ${n}`).join(', ');
        console.log(`latency round ${round + 1} ${name} ${mode}: ${result.ok}/${result.requests} ok${errors ? ` (${errors})` : ''}, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms`);
        const key = `${name}|${mode}`;
        runs.set(key, [...(runs.get(key) ?? []), result]);
      }
    }
  }
  return summarise('latency', runs, (results) => ({
    p50Ms: median(results.map((r) => r.p50Ms)),
    p99Ms: median(results.map((r) => r.p99Ms)),
    perSecond: '',
    perSecondRange: '',
    routerMaxMb: '',
    gatewayMaxMb: '',
    routerCpuMs: '',
    gatewayCpuMs: '',
    vendorCpuMs: '',
  }));
}

async function saturation(paths: Record<string, Path>, pids: Record<string, number>): Promise<Row[]> {
  type Run = { requests: number; ok: number; p50Ms: number; p99Ms: number; perSecond: number; memory: Record<string, { maxMb: number }>; cpu: Record<string, number> };
  const runs = new Map<string, Run[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of ['plain', 'whole-stream'] as const) {
      for (const [name, path] of Object.entries(paths)) {
        const memory = sampleMemory(pids);
        const cpuBefore = { router: cpuMs(pids.router!), gateway: cpuMs(pids.gateway!), vendor: cpuMs(pids.vendor!) };
        const result = await closedLoop(path(mode), { concurrency: CONCURRENCY, seconds: SECONDS });
        const mb = memory.stop();
        const per = (name: keyof typeof cpuBefore) => (cpuMs(pids[name]!) - cpuBefore[name]) / result.sent;
        const cpu = { router: per('router'), gateway: per('gateway'), vendor: per('vendor') };
        console.log(`saturation round ${round + 1} ${name} ${mode}: ${result.perSecond.toFixed(0)}/s, ${result.ok}/${result.requests} ok, router ${mb.router!.maxMb.toFixed(0)} MB ${cpu.router.toFixed(2)} CPU ms/request, gateway ${mb.gateway!.maxMb.toFixed(0)} MB ${cpu.gateway.toFixed(2)} CPU ms/request, vendor ${cpu.vendor.toFixed(2)} CPU ms/request`);
        const key = `${name}|${mode}`;
        runs.set(key, [...(runs.get(key) ?? []), { ...result, memory: mb, cpu }]);
      }
    }
  }
  return summarise('saturation', runs, (results) => {
    const perSecond = results.map((r) => r.perSecond);
    return {
      p50Ms: median(results.map((r) => r.p50Ms)),
      p99Ms: median(results.map((r) => r.p99Ms)),
      perSecond: Math.round(median(perSecond)),
      perSecondRange: `${Math.round(Math.min(...perSecond))}–${Math.round(Math.max(...perSecond))}`,
      routerMaxMb: Math.round(Math.max(...results.map((r) => r.memory.router!.maxMb))),
      gatewayMaxMb: Math.round(Math.max(...results.map((r) => r.memory.gateway!.maxMb))),
      routerCpuMs: Number(median(results.map((r) => r.cpu.router!)).toFixed(3)),
      gatewayCpuMs: Number(median(results.map((r) => r.cpu.gateway!)).toFixed(3)),
      vendorCpuMs: Number(median(results.map((r) => r.cpu.vendor!)).toFixed(3)),
    };
  });
}

type Figures = Pick<Row, 'p50Ms' | 'p99Ms' | 'perSecond' | 'perSecondRange' | 'routerMaxMb' | 'gatewayMaxMb' | 'routerCpuMs' | 'gatewayCpuMs' | 'vendorCpuMs'>;

function summarise<R extends { requests: number; ok: number }>(phase: Row['phase'], runs: Map<string, R[]>, figures: (results: R[]) => Figures): Row[] {
  const rows: Row[] = [];
  for (const [key, results] of runs) {
    const [name, mode] = key.split('|') as [string, Mode];
    const own = figures(results);
    const direct = figures(runs.get(`direct|${mode}`)!);
    rows.push({
      phase,
      vendor: VENDOR === 'canned' ? `canned, ${MOCK_STREAM === 'whole' ? 'stream in one write' : 'an event a write'}` : VENDOR,
      path: name,
      mode: mode === 'plain' ? 'plain' : 'stream',
      requests: results.reduce((n, r) => n + r.requests, 0),
      ok: results.reduce((n, r) => n + r.ok, 0),
      ...own,
      addedP50Ms: own.p50Ms - direct.p50Ms,
      addedP99Ms: own.p99Ms - direct.p99Ms,
      load1: Number(os.loadavg()[0]!.toFixed(2)),
    });
  }
  return rows;
}
