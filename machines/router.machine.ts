/**
 * A router node's lifecycle: starting → serving → draining → stopped. Draining stops taking new
 * requests and waits for those in flight, up to a grace period. The config is the node's for its
 * life: a new one is rolled out by restarting nodes one by one (docs/architecture.md says why).
 */
import { assign, setup } from 'xstate';

export interface RouterContext<C = unknown> {
  config: C;
  inFlight: number;
  graceMs: number;
}

export type RouterEvent =
  | { type: 'ready' }
  | { type: 'request.accepted' }
  | { type: 'request.finished' }
  /**
   * `inFlight`: what is in flight as the drain begins, from a system that counts its requests
   * itself and tells the machine of each one only while it drains (a router node does: two
   * events per request cost every request for a count only draining reads).
   */
  | { type: 'drain'; graceMs?: number; inFlight?: number }
  | { type: 'stop' };

export const routerMachine = setup({
  types: {
    context: {} as RouterContext,
    events: {} as RouterEvent,
    input: {} as { config: unknown; graceMs?: number },
  },
  actions: {
    accept: assign(({ context }) => ({ inFlight: context.inFlight + 1 })),
    finish: assign(({ context }) => ({ inFlight: Math.max(0, context.inFlight - 1) })),
    setGrace: assign(({ context, event }) => {
      if (event.type !== 'drain') return {};
      return { graceMs: event.graceMs ?? context.graceMs, inFlight: event.inFlight ?? context.inFlight };
    }),
  },
  guards: {
    idle: ({ context }) => context.inFlight === 0,
  },
  delays: {
    grace: ({ context }) => context.graceMs,
  },
}).createMachine({
  id: 'router',
  context: ({ input }) => ({ config: input.config, inFlight: 0, graceMs: input.graceMs ?? 30_000 }),
  initial: 'starting',
  on: {
    'request.finished': { actions: 'finish' },
    stop: { target: '.stopped' },
  },
  states: {
    starting: {
      on: { ready: 'serving' },
    },
    serving: {
      on: {
        'request.accepted': { actions: 'accept' },
        drain: { target: 'draining', actions: 'setGrace' },
      },
    },
    draining: {
      always: { guard: 'idle', target: 'stopped' },
      after: { grace: 'stopped' },
      on: { 'request.finished': { actions: 'finish', target: 'draining', reenter: false } },
    },
    stopped: { type: 'final' },
  },
});
