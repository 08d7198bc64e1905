/** The fleet's health actors on their own: no NATS, a fixed clock. */
import { describe, expect, it, vi } from 'vitest';
import { Fleet } from '../../actors/fleet.js';
import { planRequest, resolveRoute } from '../../src/routing/index.js';
import { seedConfig } from '../helpers/simulator.js';

const X = 'claude-sonnet-4@anthropic';

describe('fleet', () => {
  it('nodes back off apart: breakers opened alike reopen at different times unless seeded alike', async () => {
    const config = await seedConfig();
    const now = () => 1_000_000;
    const open = (fleet: Fleet) => {
      for (let i = 0; i < 5; i++) fleet.report(X, { type: 'outcome.failure', at: now(), failureClass: 'fault', code: 'vendor_overloaded' });
      expect(fleet.state(X)).toBe('open');
      const at = fleet.reopensAt(X)!;
      fleet.stop();
      return at;
    };
    // What was seen: six new nodes, all seeded 1, 2, 3…, probed at exactly the same moment.
    const fresh = Array.from({ length: 6 }, () => open(new Fleet(config, { now })));
    expect(new Set(fresh).size).toBe(6);
    const seeded = Array.from({ length: 2 }, () => open(new Fleet(config, { now, seed: 7 })));
    expect(seeded[0]).toBe(seeded[1]);
    expect(fresh.every((at) => at > now())).toBe(true);
  });

  it("a healthy deployment's successes reach its machine in order, before any later event and any read", async () => {
    const config = await seedConfig();
    let t = 1_000_000;
    const fleet = new Fleet(config, { now: () => t, seed: 3, policy: { consecutiveFaults: 3 } });
    const success = (ttftMs: number) => fleet.report(X, { type: 'outcome.success', at: t++, ttftMs });
    const fault = () => fleet.report(X, { type: 'outcome.failure', at: t++, failureClass: 'fault', code: 'vendor_overloaded' });
    success(100);
    success(300);
    // Counts, as peers and operators read them, see both though the turn has not ended; routing
    // reads (p95) may lag the turn, and see them once counts sent them.
    expect(fleet.counts(X)?.local.requests).toBe(2);
    expect(fleet.p95TtftMs(X)).toBe(300);
    // Two faults, a success, two faults: the success ended the run, so three in a row never happened.
    fault();
    fault();
    success(100);
    fault();
    fault();
    expect(fleet.state(X)).not.toBe('open');
    fault();
    expect(fleet.state(X)).toBe('open');
    // Left alone, held successes go out as the turn ends: the routing read that does not send them sees them after it.
    const other = 'gpt-4.1@openai';
    fleet.report(other, { type: 'outcome.success', at: t++, ttftMs: 70 });
    expect(fleet.p95TtftMs(other)).toBeUndefined();
    await new Promise((resolve) => setImmediate(resolve));
    expect(fleet.p95TtftMs(other)).toBe(70);
    fleet.stop();
  });

  it("routing makes the views a request's routes name, each once, not the whole fleet's", async () => {
    const config = await seedConfig();
    const fleet = new Fleet(config, { now: () => 1_000_000, seed: 1 });
    const made = vi.spyOn(fleet, 'view');
    const plan = planRequest('gpt-4.1', {
      views: fleet.viewLookup(),
      now: 1_000_000,
      random: () => 0.5,
      excluded: new Set(),
      expectedOutputTokens: 100,
      routeOf: (model) => resolveRoute(config, model, 'us_prod', 'otherwise'),
      fallbackOf: (model) => config.models[model]?.fallback,
    });
    expect(plan.map((c) => c.deployment).sort()).toEqual(['gpt-4.1@azure/eastus', 'gpt-4.1@openai']);
    const asked = made.mock.calls.map(([id]) => id);
    expect(new Set(asked).size).toBe(asked.length);
    expect(asked.sort()).toEqual(['gpt-4.1@azure/eastus', 'gpt-4.1@openai']);
    expect(fleet.views().size).toBeGreaterThan(asked.length);
    fleet.stop();
  });
});
