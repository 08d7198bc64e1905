import { SimulatedClock, createActor, initialTransition, transition } from 'xstate';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { healthMachine, faultRate, type HealthEvent } from '../../machines/health.machine.js';

const policy = { baseOpenMs: 1000, maxOpenMs: 8000, jitter: 0, probes: 2, rampMs: 5000, minVolume: 10 };
const fault = (at: number, extra: Partial<Extract<HealthEvent, { type: 'outcome.failure' }>> = {}): HealthEvent => ({
  type: 'outcome.failure',
  at,
  failureClass: 'fault',
  code: 'vendor_unavailable',
  ...extra,
});
const ok = (at: number, ttftMs = 100): HealthEvent => ({ type: 'outcome.success', at, ttftMs, tokensPerSecond: 50 });

function run(events: HealthEvent[], input = {}) {
  let [snapshot] = initialTransition(healthMachine, { id: 'd', policy, ...input });
  for (const event of events) [snapshot] = transition(healthMachine, snapshot, event);
  return snapshot;
}

describe('health machine (pure transitions)', () => {
  it('opens on a run of consecutive faults, not before', () => {
    // Four in a row mark it degraded (a 100% fault rate over a small volume), the fifth opens it.
    expect(run([fault(1), fault(2), fault(3), fault(4)]).value).toBe('degraded');
    expect(run([fault(1), fault(2), fault(3), fault(4), fault(5)]).value).toBe('open');
    expect(run([fault(1), fault(2), fault(3), fault(4), ok(5), fault(6)]).value).not.toBe('open');
  });

  it('opens on a fault rate over the window once the volume is there, counting peers', () => {
    const mixed = Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? fault(i) : ok(i)));
    expect(run(mixed).value).toBe('open');
    // Alone, 3 faults in 4 requests is below the minimum volume; with peers' numbers it is not.
    const few = [fault(1), ok(2), fault(3), fault(4)];
    expect(run(few).value).toBe('degraded');
    expect(run([{ type: 'peer.counts', requests: 10, faults: 6 }, ...few]).value).toBe('open');
  });

  it("a peer's verdict: a strong opening opens this breaker, its recovery closes it into the slow start", () => {
    const opened: HealthEvent = { type: 'peer.opened', at: 10, persistent: false };
    expect(run([opened]).value).toBe('open');
    expect(run([opened]).context.breaker.openReason).toBe('peer');
    expect(run([fault(1), opened]).value).toBe('open');
    expect(run([{ type: 'peer.opened', at: 10, persistent: true }]).context.breaker.openMs).toBe(600_000);
    // Local strong evidence is marked as such, for the peers; a rate-based opening is not.
    expect(run([fault(1), fault(2), fault(3), fault(4), fault(5)]).context.breaker.openReason).toBe('consecutive');
    expect(run([fault(1, { persistent: true })]).context.breaker.openReason).toBe('persistent');
    const recovered = run([opened, { type: 'peer.recovered', at: 20 }]);
    expect(recovered.value).toBe('degraded');
    expect(recovered.context.rampStartedAt).toBe(20);
    // A recovery heard while healthy changes nothing; an operator's open is not a peer's to end.
    expect(run([{ type: 'peer.recovered', at: 20 }]).value).toBe('healthy');
    expect(run([{ type: 'admin.open', at: 5, durationMs: 60_000 }, { type: 'peer.recovered', at: 20 }]).value).toBe('open');
  });

  it('half-open, a failed probe is a strong verdict, and a peer prober\'s failure opens it again', () => {
    const clock = new SimulatedClock();
    const actor = createActor(healthMachine, { input: { id: 'd', policy }, clock }).start();
    for (let i = 1; i <= 5; i++) actor.send(fault(i));
    clock.increment(1000);
    expect(actor.getSnapshot().value).toBe('halfOpen');
    actor.send(fault(1001));
    expect(actor.getSnapshot()).toMatchObject({ value: 'open', context: { breaker: { openReason: 'consecutive' } } });
    clock.increment(2000);
    expect(actor.getSnapshot().value).toBe('halfOpen');
    actor.send({ type: 'peer.opened', at: 3001, persistent: false });
    expect(actor.getSnapshot()).toMatchObject({ value: 'open', context: { breaker: { openReason: 'peer' } } });
    actor.stop();
  });

  it("open, a peer's new opening restarts the backoff, so this node half-opens with the prober and not before", () => {
    const clock = new SimulatedClock();
    const actor = createActor(healthMachine, { input: { id: 'd', policy }, clock }).start();
    for (let i = 1; i <= 5; i++) actor.send(fault(i));
    clock.increment(900);
    // The prober's probe failed just before our own backoff ran out: we wait out its new one.
    actor.send({ type: 'peer.opened', at: 905, persistent: false });
    clock.increment(200);
    expect(actor.getSnapshot().value).toBe('open');
    clock.increment(1_800);
    expect(actor.getSnapshot().value).toBe('halfOpen');
    actor.stop();
  });

  it('a crawling stream marks a healthy deployment degraded, and opens nothing', () => {
    expect(run([{ type: 'outcome.crawl', at: 5 }]).value).toBe('degraded');
    expect(run([fault(1), fault(2), fault(3), fault(4), fault(5), { type: 'outcome.crawl', at: 6 }]).value).toBe('open');
  });

  it('goes degraded, not open, on a moderate fault rate', () => {
    const events = [ok(1), ok(2), fault(3), ok(4), ok(5), ok(6), ok(7), fault(8), ok(9), ok(10), fault(11)];
    const snapshot = run(events);
    expect(snapshot.value).toBe('degraded');
    expect(faultRate(snapshot.context)).toBeCloseTo(3 / 11);
  });

  it('never opens on capacity signals, but holds traffic back until retry-after', () => {
    const throttles = Array.from({ length: 30 }, (_, i) => fault(i, { failureClass: 'capacity', code: 'vendor_rate_limited', retryAfterMs: 2000 }));
    const snapshot = run(throttles);
    expect(snapshot.value).toBe('healthy');
    expect(snapshot.context.throttledUntil).toBe(29 + 2000);
  });

  it('ignores caller errors', () => {
    const rejected = Array.from({ length: 30 }, (_, i) => fault(i, { failureClass: 'caller', code: 'vendor_rejected' }));
    expect(run(rejected).value).toBe('healthy');
  });

  it('opens at once, and for long, on a fault that will not heal by itself', () => {
    const snapshot = run([fault(1, { failureClass: 'quota_exhausted', code: 'vendor_quota_exhausted' })]);
    expect(snapshot.value).toBe('open');
    expect(snapshot.context.breaker.openMs).toBe(600_000);
  });

  it('learns latency from successes with a peak-sensitive average', () => {
    const snapshot = run([ok(0, 100), ok(1000, 400), ok(2000, 100)]);
    expect(snapshot.context.ttft.value).toBeGreaterThan(300);
    expect(snapshot.context.ttft.value).toBeLessThan(400);
    expect(snapshot.context.ttftSamples).toEqual([100, 400, 100]);
  });

  it('a batch of successes records exactly what as many single successes would', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.integer({ min: 0, max: 60_000 }), ttftMs: fc.option(fc.integer({ min: 1, max: 5000 }), { nil: undefined }), tokensPerSecond: fc.option(fc.integer({ min: 1, max: 500 }), { nil: undefined }) }), { minLength: 1, maxLength: 80 }),
        fc.integer({ min: 0, max: 70 }),
        (samples, split) => {
          // Whatever came before (here a fault and some successes), the batch continues from it.
          const before = [fault(0), ...samples.slice(0, split).map((s) => ({ type: 'outcome.success' as const, ...s }))];
          const rest = samples.slice(split);
          const singles = run([...before, ...rest.map((s) => ({ type: 'outcome.success' as const, ...s }))]);
          const batched = run(rest.length > 0 ? [...before, { type: 'outcome.successes', samples: rest }] : before);
          expect(batched.value).toBe(singles.value);
          expect(batched.context).toEqual(singles.context);
        },
      ),
    );
    // Not vacuous: the batch moved the record on.
    const batched = run([{ type: 'outcome.successes', samples: [{ at: 5, ttftMs: 120 }, { at: 6, ttftMs: 80 }] }]);
    expect(batched.context.ttftSamples).toEqual([120, 80]);
    expect(batched.context.now).toBe(6);
  });

  it('drains and undrains on an operator command, coming back with a slow start', () => {
    const drained = run([{ type: 'admin.drain' }]);
    expect(drained.value).toBe('drained');
    const back = run([{ type: 'admin.drain' }, { type: 'admin.undrain', at: 50 }]);
    expect(back.value).toBe('degraded');
    expect(back.context.rampStartedAt).toBe(50);
  });
});

describe('health machine (simulated clock)', () => {
  it('backs off, half-opens, probes, and recovers through a slow start', () => {
    const clock = new SimulatedClock();
    const actor = createActor(healthMachine, { input: { id: 'd', policy }, clock }).start();
    const send = (e: HealthEvent) => actor.send(e);
    for (let i = 0; i < 5; i++) send(fault(i));
    expect(actor.getSnapshot().value).toBe('open');
    clock.increment(999);
    expect(actor.getSnapshot().value).toBe('open');
    clock.increment(1);
    expect(actor.getSnapshot().value).toBe('halfOpen');
    expect(actor.getSnapshot().context.probesLeft).toBe(2);

    // A failed probe opens it again, for twice as long.
    send({ type: 'probe.taken', at: 1000 });
    send(fault(1001));
    expect(actor.getSnapshot().value).toBe('open');
    expect(actor.getSnapshot().context.breaker.openMs).toBe(2000);
    clock.increment(2000);
    expect(actor.getSnapshot().value).toBe('halfOpen');

    send({ type: 'probe.taken', at: 3001 });
    send(ok(3002));
    expect(actor.getSnapshot().value).toBe('halfOpen');
    send({ type: 'probe.taken', at: 3003 });
    send(ok(3004));
    expect(actor.getSnapshot().value).toBe('degraded');
    expect(actor.getSnapshot().context.breaker.openings).toBe(0);

    // Slow start: back to healthy only once the ramp is over.
    send(ok(5000));
    expect(actor.getSnapshot().value).toBe('degraded');
    send(ok(8004));
    expect(actor.getSnapshot().value).toBe('healthy');
    actor.stop();
  });

  it('caps the backoff and spreads it with jitter from its seed', () => {
    const clock = new SimulatedClock();
    const actor = createActor(healthMachine, { input: { id: 'd', policy: { ...policy, jitter: 0.15 }, seed: 42 }, clock }).start();
    const periods: number[] = [];
    let at = 0;
    for (let opening = 0; opening < 6; opening++) {
      for (let i = 0; i < 5; i++) actor.send(fault(at++));
      if (actor.getSnapshot().value === 'halfOpen') actor.send(fault(at++));
      periods.push(actor.getSnapshot().context.breaker.openMs);
      clock.increment(actor.getSnapshot().context.breaker.openMs);
    }
    periods.forEach((p, i) => {
      const base = Math.min(1000 * 2 ** i, 8000);
      expect(p).toBeGreaterThanOrEqual(base * 0.85);
      expect(p).toBeLessThanOrEqual(base * 1.15);
    });
    expect(new Set(periods.map((p, i) => p / Math.min(1000 * 2 ** i, 8000))).size).toBeGreaterThan(1);
    actor.stop();
  });

  it('after recovering, is not re-opened by the faults it has probed past, only by new ones', () => {
    const clock = new SimulatedClock();
    const actor = createActor(healthMachine, { input: { id: 'd', policy }, clock }).start();
    actor.send({ type: 'peer.counts', requests: 30, faults: 30 });
    expect(actor.getSnapshot().value).toBe('open');
    clock.increment(actor.getSnapshot().context.breaker.openMs);
    actor.send({ type: 'probe.taken', at: 1000 });
    actor.send(ok(1001));
    actor.send({ type: 'probe.taken', at: 1002 });
    actor.send(ok(1003));
    expect(actor.getSnapshot().value).toBe('degraded');
    // Peers still open keep reporting the same window: old news.
    actor.send({ type: 'peer.counts', requests: 30, faults: 30 });
    expect(actor.getSnapshot().value).toBe('degraded');
    // Their windows age out, then fresh faults arrive: those count.
    actor.send({ type: 'peer.counts', requests: 0, faults: 0 });
    actor.send({ type: 'peer.counts', requests: 20, faults: 20 });
    expect(actor.getSnapshot().value).toBe('open');
    actor.stop();
  });
});
