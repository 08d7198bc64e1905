/**
 * `npm run bench`: runs every benchmark in this folder and writes bench/results/<name>.json and
 * .md, with the machine it ran on, so figures in issues and docs can be traced to a run.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import * as capacityBench from './capacity.bench.js';
import * as configBench from './config.bench.js';
import * as decodingBench from './decoding.bench.js';
import * as fleetFairnessBench from './fleet-fairness.bench.js';
import * as healthWindowBench from './health-window.bench.js';
import * as heldStreamsBench from './held-streams.bench.js';
import * as hedgingBench from './hedging.bench.js';
import * as hostileBusBench from './hostile-bus.bench.js';
import * as natsFloorBench from './nats-floor.bench.js';
import * as objectCopiesBench from './object-copies.bench.js';
import * as overheadBench from './overhead.bench.js';
import * as requestPathBench from './request-path.bench.js';
import * as routingBench from './routing.bench.js';

const BENCHES: Record<string, { run: () => Promise<object[]> }> = {
  capacity: capacityBench,
  config: configBench,
  decoding: decodingBench,
  'fleet-fairness': fleetFairnessBench,
  'health-window': healthWindowBench,
  'held-streams': heldStreamsBench,
  hedging: hedgingBench,
  'hostile-bus': hostileBusBench,
  'nats-floor': natsFloorBench,
  'object-copies': objectCopiesBench,
  overhead: overheadBench,
  'request-path': requestPathBench,
  routing: routingBench,
};

function markdownTable(rows: object[]): string {
  const first = rows[0];
  if (!first) return '(no rows)\n';
  const headers = Object.keys(first);
  const cell = (v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(3) : String(v));
  return [
    `| ${headers.join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${headers.map((h) => cell((r as Record<string, unknown>)[h])).join(' | ')} |`),
  ].join('\n');
}

const machine = { node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', platform: `${os.platform()} ${os.arch()}` };
const out = fileURLToPath(new URL('./results/', import.meta.url));
await mkdir(out, { recursive: true });
const only = process.argv[2];
for (const [name, bench] of Object.entries(BENCHES)) {
  if (only && only !== name) continue;
  console.log(`bench ${name}: running…`);
  const rows = await bench.run();
  const at = new Date().toISOString();
  await writeFile(`${out}${name}.json`, `${JSON.stringify({ bench: name, at, machine, rows }, null, 2)}\n`);
  const md = `# bench: ${name}\n\n${at}, Node ${machine.node}, ${machine.cpus} × ${machine.cpu}\n\n${markdownTable(rows)}\n`;
  await writeFile(`${out}${name}.md`, md);
  console.log(md);
}
