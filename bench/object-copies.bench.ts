/**
 * Why the request path copies objects with Object.assign (docs/architecture.md, "The hot path"):
 * on Node 20's V8 an object literal that goes on after a spread (`{ ...a, b }`) is built property
 * by property on a slow path. A routing view of a deployment took 10 µs, 8 of them in one such
 * literal. Each copy here is what the code does per request: a reply's body numbered for the bus,
 * and a candidate with two fields added. CPU ns per copy, median of five rounds.
 */
import { median } from './harness/load.js';

export interface Row {
  copy: string;
  spreadNs: number;
  assignNs: number;
  node: string;
}

const ROUNDS = 5;
const N = 200_000;
const body = { kind: 'event', event: { type: 'delta', index: 0, delta: { type: 'text', text: 'hello' } } };
const candidate = { deployment: 'gpt-4.1@openai', model: 'gpt-4.1', vendorRegion: 'openai', via: 'route' };
let sink: unknown;

function nsPerCall(fn: (i: number) => unknown): number {
  for (let i = 0; i < N / 10; i++) sink = fn(i);
  const before = process.cpuUsage();
  for (let i = 0; i < N; i++) sink = fn(i);
  const used = process.cpuUsage(before);
  return ((used.user + used.system) * 1000) / N;
}

export function run(): Promise<Row[]> {
  const pairs: [string, (i: number) => unknown, (i: number) => unknown][] = [
    ['reply body numbered (3 fields after)', (i) => JSON.stringify({ ...body, id: 'r', node: 'n', seq: i }), (i) => JSON.stringify(Object.assign({}, body, { id: 'r', node: 'n', seq: i }))],
    ['candidate with 2 fields added', (i) => ({ ...candidate, prefill: i % 2 === 0, reservation: 'x' }), (i) => Object.assign({}, candidate, { prefill: i % 2 === 0, reservation: 'x' })],
  ];
  const rows = pairs.map(([copy, spread, assign]) => {
    const s: number[] = [];
    const a: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      s.push(nsPerCall(spread));
      a.push(nsPerCall(assign));
    }
    return { copy, spreadNs: Math.round(median(s)), assignNs: Math.round(median(a)), node: process.version };
  });
  void sink;
  return Promise.resolve(rows);
}
