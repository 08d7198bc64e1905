/**
 * Model-based tests (xstate/graph): every state of the health and router machines is reached by
 * a shortest path of events, and replaying each path on a real actor under a simulated clock
 * lands in that state with the state's invariants holding.
 */
import { SimulatedClock, createActor, type AnyEventObject } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { describe, expect, it } from 'vitest';
import { healthMachine, type HealthEvent } from '../../machines/health.machine.js';
import { routerMachine } from '../../machines/router.machine.js';

const policy = { consecutiveFaults: 2, baseOpenMs: 100, jitter: 0, probes: 1, rampMs: 50, minVolume: 100 };
const OPEN_ELAPSED = 'xstate.after.openPeriod.health.open';

const healthEvents: (HealthEvent | AnyEventObject)[] = [
  { type: 'outcome.success', at: 1, ttftMs: 100 },
  { type: 'outcome.failure', at: 1, failureClass: 'fault', code: 'vendor_unavailable' },
  { type: 'outcome.failure', at: 1, failureClass: 'capacity', code: 'vendor_rate_limited', retryAfterMs: 10 },
  { type: 'outcome.failure', at: 1, failureClass: 'quota_exhausted', code: 'vendor_quota_exhausted' },
  { type: 'probe.taken', at: 1 },
  { type: 'admin.drain' },
  { type: 'admin.undrain', at: 1 },
  { type: OPEN_ELAPSED },
];

function healthActor(clock: SimulatedClock) {
  return createActor(healthMachine, { input: { id: 'd', policy }, clock });
}

describe('health machine, model-based', () => {
  // The traversal itself (createTestModel refuses machines with delays; the delay is an event here).
  const paths = getShortestPaths(healthMachine, {
    input: { id: 'd', policy },
    events: healthEvents as HealthEvent[],
    serializeState: (snapshot) => JSON.stringify(snapshot.value),
  });

  it('reaches every state', () => {
    const reached = new Set(paths.map((p) => JSON.stringify(p.state.value)));
    for (const state of ['healthy', 'degraded', 'open', 'halfOpen', 'drained']) expect(reached).toContain(JSON.stringify(state));
  });

  for (const path of paths) {
    it(`replays: ${path.steps.map((s) => s.event.type).join(' → ')}`, () => {
      const clock = new SimulatedClock();
      const actor = healthActor(clock).start();
      for (const step of path.steps) {
        if ((step.event as AnyEventObject).type === OPEN_ELAPSED) clock.increment(actor.getSnapshot().context.breaker.openMs);
        else if ((step.event as AnyEventObject).type !== 'xstate.init') actor.send(step.event);
      }
      const snapshot = actor.getSnapshot();
      expect(snapshot.value).toEqual(path.state.value);
      if (snapshot.value === 'open') expect(snapshot.context.breaker.openMs).toBeGreaterThan(0);
      if (snapshot.value === 'halfOpen') expect(snapshot.context.probesLeft).toBeLessThanOrEqual(policy.probes);
      if (snapshot.value === 'degraded') expect(snapshot.context.consecutiveFaults).toBeLessThan(policy.consecutiveFaults);
      actor.stop();
    });
  }
});

describe('router machine, model-based', () => {
  const paths = getShortestPaths(routerMachine, {
    input: { config: { revision: 'a' }, graceMs: 100 },
    events: [
      { type: 'ready' },
      { type: 'request.accepted' },
      { type: 'request.finished' },
      { type: 'drain' },
      { type: 'stop' },
      { type: 'xstate.after.grace.router.draining' } as never,
    ],
    serializeState: (snapshot) => JSON.stringify([snapshot.value, snapshot.context.inFlight > 0]),
  });

  it('reaches serving, draining with requests in flight, and stopped', () => {
    const reached = paths.map((p) => p.state.value);
    expect(reached).toEqual(expect.arrayContaining(['starting', 'serving', 'draining', 'stopped']));
  });

  for (const path of paths) {
    it(`replays: ${path.steps.map((s) => s.event.type).join(' → ')}`, () => {
      const clock = new SimulatedClock();
      const actor = createActor(routerMachine, { input: { config: { revision: 'a' }, graceMs: 100 }, clock }).start();
      for (const step of path.steps) {
        if ((step.event as AnyEventObject).type === 'xstate.after.grace.router.draining') clock.increment(100);
        else if ((step.event as AnyEventObject).type !== 'xstate.init') actor.send(step.event);
      }
      expect(actor.getSnapshot().value).toEqual(path.state.value);
      // Draining never holds on with nothing in flight.
      if (actor.getSnapshot().value === 'draining') expect(actor.getSnapshot().context.inFlight).toBeGreaterThan(0);
      actor.stop();
    });
  }
});

