/**
 * The floor of the NATS path (issue 12): the client library against a bare responder in its own
 * process (bench/harness/bare-responder.ts), which reads each request and answers it with the
 * three messages a router node sends for a plain request, with the node's own transport code and
 * nothing else. Whatever a router node costs beyond this responder's CPU per request is routing,
 * actors and the vendor call: its own work. Closed loop of CONCURRENCY in flight, ROUNDS rounds
 * of SECONDS, the median round.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createClient } from '../src/client/index.js';
import { startNatsServer } from '../test/helpers/nats-server.js';
import { closedLoop, median } from './harness/load.js';
import { cpuMs, residentMb } from './harness/processes.js';

export interface Row {
  path: string;
  rounds: number;
  /** Answers a second, the median round, with the slowest and fastest. */
  perSecond: number;
  perSecondRange: string;
  p50Ms: number;
  /** CPU (user and system) per request of the responder and of this process (the client). */
  responderCpuMs: number;
  clientCpuMs: number;
  responderMb: number;
}

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const SECONDS = env('SECONDS', 5);
const CONCURRENCY = env('CONCURRENCY', 50);
const ROUNDS = env('ROUNDS', 3);
const root = fileURLToPath(new URL('..', import.meta.url));
const canonical = { model: 'gpt-4.1', maxTokens: 16, messages: [{ role: 'user' as const, content: 'How much does the router add?' }] };

export async function run(): Promise<Row[]> {
  const nats = await startNatsServer();
  const responder = spawn(process.execPath, ['--import', 'tsx', 'bench/harness/bare-responder.ts'], { cwd: root, env: { ...process.env, NATS_URL: nats.url }, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: responder.stdout }).on('line', (line) => line === 'ready' && resolve());
      responder.once('exit', (code) => reject(new Error(`the bare responder exited with ${code}`)));
    });
    const client = await createClient({ servers: nats.url });
    const rounds: { perSecond: number; p50Ms: number; responderCpuMs: number; clientCpuMs: number; mb: number }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const before = { responder: cpuMs(responder.pid!), client: process.cpuUsage() };
      const result = await closedLoop(async () => (await client.complete(canonical)).response.content.length > 0, { concurrency: CONCURRENCY, seconds: SECONDS });
      const used = process.cpuUsage(before.client);
      const row = {
        perSecond: result.perSecond,
        p50Ms: result.p50Ms,
        responderCpuMs: (cpuMs(responder.pid!) - before.responder) / result.sent,
        clientCpuMs: (used.user + used.system) / 1000 / result.sent,
        mb: residentMb(responder.pid!),
      };
      if (result.ok !== result.requests) throw new Error(`${result.requests - result.ok} of ${result.requests} requests failed against the bare responder`);
      console.log(`floor round ${round + 1}: ${row.perSecond.toFixed(0)}/s, responder ${row.responderCpuMs.toFixed(3)} CPU ms/request, client ${row.clientCpuMs.toFixed(3)}`);
      rounds.push(row);
    }
    await client.close();
    const perSecond = rounds.map((r) => r.perSecond);
    return [
      {
        path: 'client over NATS to a bare responder',
        rounds: rounds.length,
        perSecond: Math.round(median(perSecond)),
        perSecondRange: `${Math.round(Math.min(...perSecond))}–${Math.round(Math.max(...perSecond))}`,
        p50Ms: Number(median(rounds.map((r) => r.p50Ms)).toFixed(2)),
        responderCpuMs: Number(median(rounds.map((r) => r.responderCpuMs)).toFixed(3)),
        clientCpuMs: Number(median(rounds.map((r) => r.clientCpuMs)).toFixed(3)),
        responderMb: Math.round(Math.max(...rounds.map((r) => r.mb))),
      },
    ];
  } finally {
    // Gone before its server goes, so its drain is not cut off.
    const exited = new Promise((resolve) => (responder.exitCode !== null ? resolve(undefined) : responder.once('exit', resolve)));
    responder.kill('SIGTERM');
    await exited;
    await nats.stop();
  }
}
