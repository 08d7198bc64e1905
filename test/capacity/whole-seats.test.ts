/**
 * Whole seats across the fleet: each node's part of a concurrency limit is a fraction, seats are
 * whole, and the nodes' seats must add up to the limit, never more (peers.ts `wholeSeats`).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { wholeSeats } from '../../src/capacity/peers.js';
import { A, clock, fill, fleetOf } from './fixture.js';
import type { AdmissionRequest, Reservation } from '../../src/capacity/index.js';

/** Node i's view: its own part first, the peers' after. */
const viewOf = (parts: readonly number[], i: number) => [parts[i]!, ...parts.filter((_, j) => j !== i)];

describe('whole seats', () => {
  it('the nodes never take more seats together than the whole, and leave none idle when their remainders differ (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 1_000 }), { minLength: 2, maxLength: 12 }), fc.integer({ min: 1, max: 200 }), fc.double({ min: 0.05, max: 1, noNaN: true }), (weights, limit, scale) => {
        const total = weights.reduce((a, b) => a + b, 0);
        const parts = weights.map((w) => (w / total) * limit);
        const seats = parts.map((_, i) => wholeSeats(viewOf(parts, i), scale));
        const whole = Math.floor(limit * scale + 1e-9);
        const sum = seats.reduce((a, b) => a + b, 0);
        expect(sum).toBeLessThanOrEqual(whole);
        seats.forEach((s, i) => expect(s).toBeGreaterThanOrEqual(Math.floor(parts[i]! * scale + 1e-9)));
        const remainders = parts.map((p) => Math.round(((p * scale) % 1) * 1e6));
        if (new Set(remainders).size === remainders.length) expect(sum).toBe(whole);
      }),
      { numRuns: 500, seed: 21 },
    );
  });

  it('on a tie for the last seat, neither node takes it', () => {
    // Three parts of 20/3: two spare seats, three equal remainders.
    const parts = [20 / 3, 20 / 3, 20 / 3];
    expect(parts.map((_, i) => wholeSeats(viewOf(parts, i), 1))).toEqual([6, 6, 6]);
    // Two of the three tie ahead of the third.
    const uneven = [4.4, 4.4, 5.6, 5.6];
    expect(uneven.map((_, i) => wholeSeats(viewOf(uneven, i), 1))).toEqual([4, 4, 6, 6]);
  });

  it("three nodes with uneven demand fill the bulk pool's 20 seats together, and no more", () => {
    const time = clock();
    const { ledgers, gossip } = fleetOf(3, time.now, true);
    const bulk = (owner: string): AdmissionRequest => ({ deployment: A, pool: 'bulk', priority: 'batch', tenant: { name: 'worker', maxShare: 100 }, tokens: 1, owner });
    // Demand arrives 1 : 2 : 4, so the nodes' parts of the 20 seats are 2.9, 5.7 and 11.4: rounded down, 18.
    for (let round = 0; round < 4; round++) {
      const held: Reservation[][] = ledgers.map((ledger, i) => fill(ledger, bulk(`warm${i}`), 2 ** i));
      time.advance(300);
      gossip();
      held.forEach((reservations, i) => reservations.forEach((r) => ledgers[i]!.release(r)));
      time.advance(300);
      gossip();
    }
    const seats = ledgers.map((ledger, i) => fill(ledger, bulk(`n${i}`)).length);
    console.log(`bulk seats per node: ${seats.join(', ')}`);
    expect(new Set(seats).size).toBeGreaterThan(1);
    expect(seats.reduce((a, b) => a + b, 0)).toBe(20);
  });
});
