/**
 * Usage of one deployment by one pool or tenant on this node (in flight, requests and tokens in
 * the rolling window), and the arithmetic on amounts the ledger and its reports share.
 */
import { DIMENSIONS, type Amounts } from './limits.js';
import { RollingSum } from './window.js';

export class Usage {
  inFlight = 0;
  readonly requests: RollingSum;
  readonly tokens: RollingSum;
  constructor(windowMs: number) {
    this.requests = new RollingSum(windowMs);
    this.tokens = new RollingSum(windowMs);
  }
  amounts(now: number): Amounts {
    return { concurrency: this.inFlight, rpm: this.requests.total(now), tpm: this.tokens.total(now) };
  }
}

/** Amounts as a digest carries them. */
export function onWire(a: Amounts): { inFlight: number; requests: number; tokens: number } {
  return { inFlight: a.concurrency, requests: Math.round(a.rpm), tokens: Math.round(a.tpm) };
}

export function add(into: Amounts, more: Amounts): void {
  for (const d of DIMENSIONS) into[d] += more[d];
}

export function sum(a: Amounts, b: Amounts): Amounts {
  return { concurrency: a.concurrency + b.concurrency, rpm: a.rpm + b.rpm, tpm: a.tpm + b.tpm };
}

export function scaleBy(a: Amounts, factor: number): Amounts {
  return roundAll({ concurrency: a.concurrency * factor, rpm: a.rpm * factor, tpm: a.tpm * factor });
}

export function roundAll(a: Amounts): Amounts {
  return { concurrency: round(a.concurrency), rpm: round(a.rpm), tpm: round(a.tpm) };
}

export function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** How fast a demand estimate forgets: shares follow a change of load within seconds. */
const DEMAND_TAU_MS = 5_000;

/** Requests per second that arrived, as an exponentially weighted rate. */
export interface DemandRate {
  rate: number;
  at: number;
}

export function demandAt(demand: DemandRate, now: number): number {
  return demand.rate * Math.exp(-Math.max(0, now - demand.at) / DEMAND_TAU_MS);
}

/**
 * The rate as measured since `since` alone: a young average has not yet forgotten the zeros it
 * started from, and dividing by the weight it has gathered so far undoes that (as Adam corrects
 * its moments), so a flood shows its full rate within its first second, not after several.
 */
export function demandSince(demand: DemandRate, since: number, now: number): number {
  const age = Math.max(1_000, now - since);
  return demandAt(demand, now) / (1 - Math.exp(-age / DEMAND_TAU_MS));
}

/** The rate after one more arrival at `now`. */
export function withArrival(demand: DemandRate, now: number): DemandRate {
  return { rate: demandAt(demand, now) + 1000 / DEMAND_TAU_MS, at: now };
}
