/**
 * What a request pays for going through Switchyard, path by path, on one machine: straight to the
 * simulated vendor (the baseline), through the client library over NATS to a router node, and
 * through the HTTP gateway (OpenAI shape) over NATS to the same node. Every part is its own
 * process as in production (`switchyard simulate` answering at once, `switchyard start
 * --simulator`, `switchyard gateway`); this process only generates load. Open loop: requests
 * leave at a fixed rate, taking the three paths in turn, and each is timed from when it was due, so
 * a stall is counted, not hidden (no coordinated omission). Plain answers give latency; streams give the time to the first token.
 * Issue 12 sets the targets; this table is where they are measured. `RATE`, `SECONDS`, `ROUNDS`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { createClient } from '../src/client/index.js';
import { hashKey } from '../src/gateway/index.js';
import { startNatsServer } from '../test/helpers/nats-server.js';

export interface Row {
  path: string;
  mode: 'plain' | 'stream';
  requests: number;
  ok: number;
  /** Plain: the whole answer; stream: its first token. */
  p50Ms: number;
  p99Ms: number;
  /** Over the direct path's figure of the same mode and round. */
  addedP50Ms: number;
  addedP99Ms: number;
}

/** Requests a second over all three paths together. */
const RATE = Number(process.env.RATE ?? 150);
const SECONDS = Number(process.env.SECONDS ?? 5);
const ROUNDS = Number(process.env.ROUNDS ?? 1);
/** `GATEWAY_NODE_ARGS='--cpu-prof --cpu-prof-dir=DIR'` profiles the gateway process. */
const gatewayNodeArgs = (process.env.GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
const KEY = 'sk-sy-bench-overhead-key-000000000000000000000';
const root = fileURLToPath(new URL('..', import.meta.url));
/** The vendor sees its own model id; Switchyard's callers name the logical model. */
const body = (model: string, stream: boolean) => ({ model, max_tokens: 16, messages: [{ role: 'user', content: 'How much does the router add?' }], stream });

const config = {
  vendorRegions: {
    openai: {
      credentials: { apiKey: { env: 'OPENAI_API_KEY' } },
      deployments: { 'gpt-4.1': { vendorModelId: 'gpt-4.1-2025-04-14', quota: { rpm: 10_000_000, tpm: 10_000_000_000, concurrency: 10_000 } } },
    },
  },
  models: { 'gpt-4.1': {} },
  routes: { GPT_4_1: { bench: 'openai' } },
  gateway: { apiKeys: { bench: { sha256: hashKey(KEY), useCases: ['otherwise'], maxPriority: 'critical' } } },
};

/** A child `switchyard` process, resolved with its first stdout line matching `ready`. */
async function child(args: string[], env: Record<string, string>, ready: RegExp, nodeArgs: string[] = []): Promise<{ process: ChildProcess; line: string }> {
  const proc = spawn(process.execPath, [...nodeArgs, 'bin/switchyard.js', ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout }).on('line', (l) => ready.test(l) && resolve(l));
    proc.once('exit', (code) => reject(new Error(`switchyard ${args[0]} exited with ${code}: ${stderr}`)));
  });
  return { process: proc, line };
}

/**
 * Fires RATE requests a second for SECONDS, request i down path i mod n, so every path meets the
 * router node in the same state (a node slows as its windows fill); each is timed from when it
 * was due. The first second warms up.
 */
async function openLoop(paths: ((i: number) => Promise<boolean>)[]): Promise<{ times: number[]; ok: number; requests: number }[]> {
  const interval = 1000 / RATE;
  const total = Math.round(RATE * SECONDS);
  const warm = Math.round(RATE);
  const results = paths.map(() => ({ times: [] as number[], ok: 0, requests: 0 }));
  const started = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const result = results[i % paths.length]!;
    pending.push(
      paths[i % paths.length]!(i).then(
        (success) => {
          if (i < warm) return;
          result.requests++;
          if (success) result.ok++;
          result.times.push(performance.now() - due);
        },
        () => {
          if (i >= warm) result.requests++;
        },
      ),
    );
  }
  await Promise.all(pending);
  for (const r of results) r.times.sort((a, b) => a - b);
  return results;
}

const at = (times: number[], q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? NaN;

export async function run(): Promise<Row[]> {
  const nats = await startNatsServer();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'switchyard-overhead-'));
  const configFile = path.join(dir, 'switchyard.config.json');
  await writeFile(configFile, JSON.stringify(config));
  const procs: ChildProcess[] = [];
  const dispatcher = new Agent({ connections: 256 });
  try {
    const sim = await child(['simulate', '--config', configFile, '--latency-scale', '0', '--json'], {}, /^\{/);
    procs.push(sim.process);
    const simulator = JSON.parse(sim.line) as { admin: string; endpoints: Record<string, string>; credentials: { apiKey: string } };
    const node = await child(['start', '--config', configFile, '--env', 'bench', '--node-id', 'bench-1', '--simulator', simulator.admin, '--log-level', 'warn'], { NATS_URL: nats.url }, /serving environment/);
    procs.push(node.process);
    const gw = await child(['gateway', '--config', configFile, '--listen', '127.0.0.1:0', '--log-level', 'warn'], { NATS_URL: nats.url}, /^Gateway serving/, gatewayNodeArgs);
    procs.push(gw.process);
    const gatewayUrl = /(http:\/\/[\d.:]+)/.exec(gw.line)![1]!;
    const client = await createClient({ servers: nats.url });

    const http = async (url: string, key: string, model: string, stream: boolean): Promise<boolean> => {
      const res = await request(url, { method: 'POST', dispatcher, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body(model, stream)) });
      if (!stream) {
        await res.body.text();
        return res.statusCode === 200;
      }
      // The first token: the first bytes that carry content (the role chunk before it has "content":"").
      let seen = '';
      for await (const chunk of res.body) {
        seen += String(chunk);
        if (/"content":"[^"]/.test(seen)) {
          res.body.destroy();
          return res.statusCode === 200;
        }
      }
      return false;
    };
    const canonical = { model: 'gpt-4.1', maxTokens: 16, messages: [{ role: 'user' as const, content: 'How much does the router add?' }] };
    const paths: Record<string, (stream: boolean) => Promise<boolean>> = {
      direct: (stream) => http(`${simulator.endpoints.openai}/v1/chat/completions`, simulator.credentials.apiKey, 'gpt-4.1-2025-04-14', stream),
      'client over NATS': async (stream) => {
        if (!stream) return (await client.complete(canonical)).response.content.length > 0;
        const events = client.stream(canonical);
        for await (const event of events) if (event.type === 'delta') return true;
        return false;
      },
      'gateway over NATS': (stream) => http(`${gatewayUrl}/v1/chat/completions`, KEY, 'gpt-4.1', stream),
    };
    const rows: Row[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of ['plain', 'stream'] as const) {
        const names = Object.keys(paths);
        const results = await openLoop(names.map((name) => () => paths[name]!(mode === 'stream')));
        const direct = results[0]!;
        for (const [index, { times, ok, requests }] of results.entries()) {
          const p50 = at(times, 0.5);
          const p99 = at(times, 0.99);
          rows.push({ path: names[index]!, mode, requests, ok, p50Ms: p50, p99Ms: p99, addedP50Ms: p50 - at(direct.times, 0.5), addedP99Ms: p99 - at(direct.times, 0.99) });
          console.log(`${names[index]} ${mode}: ${ok}/${requests} ok, p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`);
        }
      }
    }
    await client.close();
    return rows;
  } finally {
    for (const p of procs.reverse()) p.kill('SIGTERM');
    await dispatcher.close();
    await nats.stop();
  }
}
