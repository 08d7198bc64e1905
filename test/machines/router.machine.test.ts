import { SimulatedClock, createActor, initialTransition, transition } from 'xstate';
import { describe, expect, it } from 'vitest';
import { routerMachine } from '../../machines/router.machine.js';

describe('router machine', () => {
  it('serves once ready, with the config it started with', () => {
    let [s] = initialTransition(routerMachine, { config: 'v1' });
    expect(s.value).toBe('starting');
    [s] = transition(routerMachine, s, { type: 'ready' });
    expect(s.value).toBe('serving');
    expect(s.context).toMatchObject({ config: 'v1', inFlight: 0 });
  });

  it('drains: stops at once when idle, otherwise when the last request finishes', () => {
    let [s] = initialTransition(routerMachine, { config: 'v1' });
    [s] = transition(routerMachine, s, { type: 'ready' });
    const [idle] = transition(routerMachine, s, { type: 'drain' });
    expect(idle.value).toBe('stopped');
    [s] = transition(routerMachine, s, { type: 'request.accepted' });
    [s] = transition(routerMachine, s, { type: 'request.accepted' });
    [s] = transition(routerMachine, s, { type: 'drain' });
    expect(s.value).toBe('draining');
    [s] = transition(routerMachine, s, { type: 'request.accepted' });
    expect(s.context.inFlight).toBe(2);
    [s] = transition(routerMachine, s, { type: 'request.finished' });
    expect(s.value).toBe('draining');
    [s] = transition(routerMachine, s, { type: 'request.finished' });
    expect(s.value).toBe('stopped');
  });

  it('drains from the in-flight count a drain brings, for a system that counts its requests itself', () => {
    let [s] = initialTransition(routerMachine, { config: 'v1' });
    [s] = transition(routerMachine, s, { type: 'ready' });
    [s] = transition(routerMachine, s, { type: 'drain', inFlight: 2 });
    expect(s.value).toBe('draining');
    expect(s.context.inFlight).toBe(2);
    [s] = transition(routerMachine, s, { type: 'request.finished' });
    expect(s.value).toBe('draining');
    [s] = transition(routerMachine, s, { type: 'request.finished' });
    expect(s.value).toBe('stopped');
    const [idle] = transition(routerMachine, transition(routerMachine, initialTransition(routerMachine, { config: 'v1' })[0], { type: 'ready' })[0], { type: 'drain', inFlight: 0 });
    expect(idle.value).toBe('stopped');
  });

  it('stops draining at the end of the grace period, whatever is still in flight', () => {
    const clock = new SimulatedClock();
    const actor = createActor(routerMachine, { input: { config: 'v1', graceMs: 1000 }, clock }).start();
    actor.send({ type: 'ready' });
    actor.send({ type: 'request.accepted' });
    actor.send({ type: 'drain', graceMs: 500 });
    clock.increment(499);
    expect(actor.getSnapshot().value).toBe('draining');
    clock.increment(1);
    expect(actor.getSnapshot().value).toBe('stopped');
    expect(actor.getSnapshot().status).toBe('done');
  });
});
