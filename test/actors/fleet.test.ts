/** The fleet's health actors on their own: no NATS, a fixed clock. */
import { describe, expect, it } from 'vitest';
import { Fleet } from '../../actors/fleet.js';
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
});
