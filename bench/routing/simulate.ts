/**
 * A discrete-event simulation in virtual time: requests arrive, a policy picks a deployment, the
 * request starts at once if the deployment has a free slot or waits in its FIFO queue otherwise,
 * and the policy hears the time to first token when the first token arrives and the token rate
 * when the answer ends, as the router's health machines would. No clock, no sleeps, no I/O.
 */
import { drawFor, type DeploymentSpec, type Workload } from './fleet.js';

/** What every policy may know of the fleet: the router tracks its own in-flight requests and queues. */
export interface FleetState {
  readonly capacity: readonly number[];
  /** Requests being served now, per deployment. */
  readonly active: readonly number[];
  /** Requests waiting for a slot, per deployment. */
  readonly queued: readonly number[];
}

export interface Policy {
  name: string;
  /** Index into the fleet of the deployment this request goes to. */
  choose(request: number, now: number, fleet: FleetState): number;
  observeFirstToken(deployment: number, ttftMs: number, now: number): void;
  observeDone(deployment: number, ttftMs: number, tokensPerSecond: number, now: number): void;
}

export interface Outcome {
  /** End-to-end latency per request: queue wait + time to first token + output time. */
  latencies: Float64Array;
  /** Requests that arrived when no deployment had a free slot. */
  saturated: number;
  /** Requests that had to wait in a queue. */
  queuedRequests: number;
}

interface Event {
  at: number;
  /** Arrival order breaks ties, so runs are deterministic. */
  seq: number;
  kind: 'firstToken' | 'done';
  deployment: number;
  ttftMs: number;
  tokensPerSecond: number;
}

/** A binary min-heap on (at, seq); the simulation holds at most a few hundred events at a time. */
class EventQueue {
  private readonly items: Event[] = [];
  get size(): number {
    return this.items.length;
  }
  peek(): Event | undefined {
    return this.items[0];
  }
  /** Sifts by moving a hole rather than swapping, which allocates nothing on this hot path. */
  push(event: Event): void {
    const items = this.items;
    let i = items.length;
    items.push(event);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = items[parent]!;
      if (!before(event, above)) break;
      items[i] = above;
      i = parent;
    }
    items[i] = event;
  }
  pop(): Event | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || !last) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && before(items[right]!, items[left]!) ? right : left;
      const below = items[child]!;
      if (!before(below, last)) break;
      items[i] = below;
      i = child;
    }
    items[i] = last;
    return top;
  }
}

function before(a: Event, b: Event): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

export function simulate(policy: Policy, fleet: DeploymentSpec[], work: Workload, seed: number): Outcome {
  const count = work.arrivals.length;
  const latencies = new Float64Array(count);
  const state = { capacity: fleet.map((d) => d.capacity), active: fleet.map(() => 0), queued: fleet.map(() => 0) };
  const queues: number[][] = fleet.map(() => []);
  const heads = fleet.map(() => 0);
  const events = new EventQueue();
  let saturated = 0;
  let queuedRequests = 0;

  const start = (request: number, deployment: number, now: number) => {
    const spec = fleet[deployment]!;
    const draw = drawFor(seed, request, deployment, spec, now);
    const outputMs = work.tokens[request]! * draw.interTokenMs;
    latencies[request] = now - work.arrivals[request]! + draw.ttftMs + outputMs;
    state.active[deployment]!++;
    const tokensPerSecond = 1000 / draw.interTokenMs;
    events.push({ at: now + draw.ttftMs, seq: request, kind: 'firstToken', deployment, ttftMs: draw.ttftMs, tokensPerSecond });
    events.push({ at: now + draw.ttftMs + outputMs, seq: request, kind: 'done', deployment, ttftMs: draw.ttftMs, tokensPerSecond });
  };

  const handle = (event: Event) => {
    if (event.kind === 'firstToken') {
      policy.observeFirstToken(event.deployment, event.ttftMs, event.at);
      return;
    }
    const d = event.deployment;
    state.active[d]!--;
    policy.observeDone(d, event.ttftMs, event.tokensPerSecond, event.at);
    // The freed slot goes to the longest-waiting request there, before anything arriving later.
    const queue = queues[d]!;
    const head = heads[d]!;
    if (head < queue.length) {
      const next = queue[head]!;
      // A head index makes taking from the queue O(1); served entries are dropped now and then.
      if (head >= 1024) {
        queue.splice(0, head + 1);
        heads[d] = 0;
      } else {
        heads[d] = head + 1;
      }
      state.queued[d]!--;
      start(next, d, event.at);
    }
  };

  for (let request = 0; request < count; request++) {
    const now = work.arrivals[request]!;
    for (let next = events.peek(); next && next.at <= now; next = events.peek()) handle(events.pop()!);
    let full = true;
    for (let d = 0; d < fleet.length; d++) full &&= state.active[d]! >= state.capacity[d]!;
    if (full) saturated++;
    const d = policy.choose(request, now, state);
    if (state.active[d]! < state.capacity[d]!) {
      start(request, d, now);
    } else {
      queues[d]!.push(request);
      state.queued[d]!++;
      queuedRequests++;
    }
  }
  while (events.size > 0) handle(events.pop()!);
  return { latencies, saturated, queuedRequests };
}

export interface Summary {
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
}

export function summarise(latencies: Float64Array): Summary {
  const sorted = Float64Array.from(latencies).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  const mean = sorted.reduce((sum, v) => sum + v, 0) / sorted.length;
  return { meanMs: mean, p50Ms: at(0.5), p99Ms: at(0.99) };
}
