/**
 * What one outcome costs a health actor as traffic grows: successes at a steady rate for a
 * simulated minute (the window holds 30 s of them), time per event. Issue 12 asks bookkeeping in
 * constant time: the cost must not grow with the rate.
 */
import { createActor } from 'xstate';
import { healthMachine } from '../machines/health.machine.js';

export interface Row {
  successesPerSecond: number;
  events: number;
  usPerEvent: number;
}

export function run(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const rate of [10, 100, 1_000]) {
    const actor = createActor(healthMachine, { input: { id: 'bench', now: 0 } }).start();
    const events = rate * 60;
    const started = performance.now();
    for (let i = 0; i < events; i++) actor.send({ type: 'outcome.success', at: Math.floor((i * 1000) / rate), ttftMs: 100 });
    rows.push({ successesPerSecond: rate, events, usPerEvent: ((performance.now() - started) * 1000) / events });
    actor.stop();
  }
  return Promise.resolve(rows);
}
