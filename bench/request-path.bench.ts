/**
 * Two pieces of a routed request measured alone (issue 12, docs/architecture.md "The hot path"):
 * the request machine with stub actors that answer at once (a delta, usage, the end), the two
 * router-machine events a request used to cost (no longer sent unless the node drains), and one
 * vendor call read to its end, through `undici.request` (a Node Readable per body, an AbortSignal
 * per call) and through VendorCall on undici's dispatch API, against a local HTTP server in its
 * own process sending an OpenAI-like stream of 18 events. Then issue 12's plain path: a whole
 * answer read from the vendor's stream by the OpenAI adapter and assembled as the router system
 * does, against the same adapter's plain call, both to the canned vendor (bench/harness) in its own
 * process. CPU time of this process per request, 50 calls in flight; rounds alternate so the
 * machine's drifting speed hits both alike.
 */
import { spawn } from 'node:child_process';
import { Agent, request } from 'undici';
import { createActor, fromCallback, fromPromise, type AnyEventObject } from 'xstate';
import { requestMachine, type AttemptInput, type ChooseInput, type ChooseOutput } from '../machines/request.machine.js';
import { routerMachine } from '../machines/router.machine.js';
import { assemble } from '../actors/router-system.js';
import { parseConfig } from '../src/config/index.js';
import { createAdapter } from '../src/vendors/index.js';
import { VendorCall } from '../src/vendors/vendor-call.js';
import { median } from './harness/load.js';
import { harness, type Child } from './harness/processes.js';

export interface Row {
  piece: string;
  rounds: number;
  /** CPU of this process per request (user and system), the median round, and the range. */
  cpuUsPerRequest: number;
  range: string;
}

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const request_ = { model: 'm', maxTokens: 16, messages: [] };
const candidate = { deployment: 'd', model: 'm', vendorRegion: 'v', prefill: false };

const stubbed = requestMachine.provide({
  actors: {
    choose: fromPromise<ChooseOutput, ChooseInput>(() => Promise.resolve({ kind: 'candidate', candidate })),
    attempt: fromCallback<AnyEventObject, AttemptInput>(({ sendBack, input }) => {
      queueMicrotask(() => {
        const id = input.attemptId;
        sendBack({ type: 'attempt.event', attemptId: id, event: { type: 'delta', index: 0, delta: { type: 'text', text: 'hello' } } });
        sendBack({ type: 'attempt.event', attemptId: id, event: { type: 'usage', usage: { inputTokens: 1, outputTokens: 2 } } });
        sendBack({ type: 'attempt.event', attemptId: id, event: { type: 'end', stopReason: 'end_turn' } });
      });
      return () => undefined;
    }),
  },
});

/** One request through the machine, its first choice made before it starts, as the router system does. */
const oneRequest = () =>
  new Promise<void>((resolve) => {
    const actor = createActor(stubbed, { input: { request: request_, ttftLimitMs: 10_000, chosen: { kind: 'candidate', candidate } } });
    actor.subscribe({ complete: () => resolve() });
    actor.start();
  });

/** What the router machine was told of every request until 2026-12-07: its start and its end. */
const router = createActor(routerMachine, { input: { config: {} } }).start();
router.send({ type: 'ready' });
const acceptAndFinish = () => {
  router.send({ type: 'request.accepted' });
  router.send({ type: 'request.finished' });
  return Promise.resolve();
};

/** CPU µs per call of `fn` with `concurrency` in flight for `calls` calls. */
async function cpuPerCall(fn: () => Promise<unknown>, calls: number, concurrency: number): Promise<number> {
  let left = calls;
  const before = process.cpuUsage();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) await fn();
    }),
  );
  const used = process.cpuUsage(before);
  return (used.user + used.system) / calls;
}

const SERVER = `
const http = require('node:http');
const chunk = (delta, finish) => 'data: ' + JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] }) + '\\n\\n';
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(chunk({ role: 'assistant', content: '' }, null));
    for (let i = 0; i < 16; i++) res.write(chunk({ content: 'token ' }, null));
    res.write(chunk({}, 'stop'));
    res.end('data: [DONE]\\n\\n');
  });
});
// Idle through the other pieces' rounds: a keep-alive closed as undici reuses it fails the call.
server.keepAliveTimeout = 600000;
server.listen(0, '127.0.0.1', function () { console.log(this.address().port); });`;

/** The OpenAI adapter on the canned vendor: a plain answer assembled from its stream, and its own plain call. */
function plainPath(vendor: Child, dispatcher: Agent): { assembled: () => Promise<unknown>; plain: () => Promise<unknown> } {
  const { url, apiKey } = JSON.parse(vendor.line) as { url: string; apiKey: string };
  const config = parseConfig({
    vendorRegions: { openai: { baseUrl: `${url}/v1`, credentials: { apiKey: { env: 'OPENAI_API_KEY' } }, deployments: { 'gpt-4.1': { vendorModelId: 'gpt-4.1-2025-04-14', quota: { rpm: 1e7, tpm: 1e10, concurrency: 10_000 } } } } },
    models: { 'gpt-4.1': {} },
    routes: { GPT_4_1: { bench: 'openai' } },
  });
  const vendorRegion = config.vendorRegions.openai!;
  const deployment = vendorRegion.deployments['gpt-4.1']!;
  const adapter = createAdapter(vendorRegion, { dispatcher, secrets: () => Promise.resolve(apiKey) });
  const canonical = { model: 'gpt-4.1', maxTokens: 16, messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'How much does the router add?' }] }] };
  return {
    assembled: async () => {
      const events = [];
      for await (const event of await adapter.stream(canonical, { deployment })) events.push(event);
      return assemble(events, 'gpt-4.1');
    },
    plain: async () => (await adapter.complete(canonical, { deployment })).response,
  };
}

export async function run(): Promise<Row[]> {
  const server = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  let vendor: Child | undefined;
  try {
    vendor = await harness('canned-vendor.ts', { ready: /^\{/ });
    const port = await new Promise<number>((resolve) => server.stdout.once('data', (d: Buffer) => resolve(Number(String(d)))));
    const origin = `http://127.0.0.1:${port}`;
    const dispatcher = new Agent({ connections: 256 });
    const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true });
    const headers = { 'content-type': 'application/json', authorization: 'Bearer bench' };
    const viaRequest = async () => {
      const controller = new AbortController();
      const res = await request(`${origin}/v1/chat/completions`, { method: 'POST', dispatcher, headers, body, signal: controller.signal });
      for await (const chunk of res.body) void chunk;
    };
    const viaDispatch = async () => {
      const call = new VendorCall(dispatcher, { origin, path: '/v1/chat/completions', method: 'POST', headers, body, headersTimeout: 0, bodyTimeout: 0 });
      await call.head;
      while ((await call.next()) !== undefined);
    };
    const { assembled, plain } = plainPath(vendor, dispatcher);
    const pieces: [string, () => Promise<unknown>, number][] = [
      ['request machine, stub actors', oneRequest, 20_000],
      ['router machine, a request accepted and finished', acceptAndFinish, 200_000],
      ['vendor call, undici.request', viaRequest, 20_000],
      ['vendor call, VendorCall (dispatch)', viaDispatch, 20_000],
      ['a plain answer read from the vendor stream and assembled (16 tokens)', assembled, 10_000],
      ["the vendor's own plain call of the same answer", plain, 10_000],
    ];
    // Warm every piece up before any is measured.
    for (const [, fn, calls] of pieces) await cpuPerCall(fn, calls / 4, 50);
    const results = new Map<string, number[]>(pieces.map(([name]) => [name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, fn, calls] of pieces) results.get(name)!.push(await cpuPerCall(fn, calls, 50));
    }
    await dispatcher.close();
    return [...results].map(([piece, values]) => ({
      piece,
      rounds: values.length,
      cpuUsPerRequest: Number(median(values).toFixed(1)),
      range: `${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)}`,
    }));
  } finally {
    server.kill();
    await vendor?.stop();
  }
}
