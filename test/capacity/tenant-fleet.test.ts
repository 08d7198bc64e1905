/**
 * Tenants across a fleet of ledgers that hear each other only when they gossip: each node holds
 * a part of every tenant's share, split by where the tenant's requests arrive (tenant-book.ts).
 */
import { describe, expect, it } from 'vitest';
import { CapacityLedger, type AdmissionRequest, type Reservation } from '../../src/capacity/index.js';
import { A, capacityConfig, fill } from './fixture.js';

function fleetOf(n: number) {
  let t = 1_000_000;
  const now = () => t;
  // Concurrency 40, the flagship reserves half: the bulk pool may use 20; calm's share is half of it, flood's a quarter.
  const config = capacityConfig({ tenants: { calm: { maxShare: 50, maxPriority: 'batch' }, flood: { maxShare: 25, maxPriority: 'batch' } } }, { rpm: 100_000, tpm: 100_000_000, concurrency: 40 });
  const ledgers = Array.from({ length: n }, () => new CapacityLedger(config, { now }));
  const gossip = () => {
    const reports = ledgers.map((l) => l.report(A)!);
    ledgers.forEach((l, i) => l.applyPeers(new Map([[A, reports.filter((_, j) => j !== i)]])));
  };
  return { ledgers, gossip, advance: (ms: number) => (t += ms) };
}

const ask = (tenant: string, maxShare: number, owner = tenant): AdmissionRequest => ({ deployment: A, pool: 'bulk', priority: 'batch', tenant: { name: tenant, maxShare }, tokens: 10, owner });
const calm = ask('calm', 50);
const flood = ask('flood', 25);



describe('tenants across the fleet', () => {
  it('a flood arriving on four nodes at once, before the fleet has heard of it, holds no more than its share', () => {
    const { ledgers, gossip } = fleetOf(4);
    gossip();
    // Another tenant is active everywhere, so the flood's share (5 of the 20) applies.
    for (const l of ledgers) expect(l.admit(calm).ok).toBe(true);
    const held = ledgers.map((l) => fill(l, flood));
    const total = held.reduce((sum, h) => sum + h.length, 0);
    expect(total).toBeGreaterThan(0);
    expect(total).toBeLessThanOrEqual(5);
    // Refused for this node's part of a tenant new to the fleet: a wait, not a verdict.
    expect(ledgers[0]!.admit(flood)).toMatchObject({ ok: false, refusal: 'tenant_share' });
  });

  it("a flood's first burst on one node is judged over its share at once, not at the next report, and is no demand for the node's share", () => {
    const { ledgers, gossip, advance } = fleetOf(2);
    // Calm is active on both nodes, has been reported, and its requests hold their seats 400 ms.
    for (let i = 0; i < 3; i++) {
      const seats = ledgers.map((l) => l.admit(calm));
      advance(400);
      for (const [j, seat] of seats.entries()) if (seat.ok) ledgers[j]!.release(seat.reservation);
      gossip();
    }
    const node = ledgers[0]!;
    const demandBefore = node.report(A)!.demand;
    gossip();
    // Sixty at once, as a batch job fires them: its share is 5 of the bulk pool's 20.
    const burst = Array.from({ length: 60 }, () => node.admit({ ...flood, handBack: true }));
    const refusals = burst.map((r) => (r.ok ? 'ok' : r.refusal));
    expect(refusals.filter((r) => r === 'ok').length).toBeLessThanOrEqual(5);
    // Asking for far more than its share is seen in the burst itself: refused outright, so the
    // node turns the rest away at the door instead of queueing them all.
    expect(refusals.filter((r) => r === 'tenant').length).toBeGreaterThan(10);
    // A tenant the fleet has not heard of has no more room on the peer: nothing is handed back.
    expect(burst.some((r) => !r.ok && 'elsewhere' in r)).toBe(false);
    // Held back by its own share or its part of it, it is no demand for the node's share.
    expect(node.report(A)!.demand).toBeLessThan(demandBefore + 1);
    // Calm's own burst of five is no flood.
    const calmBurst = Array.from({ length: 5 }, (_, i) => ledgers[1]!.admit({ ...calm, owner: `calm-${i}` }));
    expect(calmBurst.every((r) => r.ok)).toBe(true);
  });

  it('a flood keeps to its share while it keeps asking, split where its requests arrive', () => {
    const { ledgers, gossip, advance } = fleetOf(4);
    let peak = 0;
    const held: Reservation[][] = ledgers.map(() => []);
    const calmHeld: Reservation[][] = ledgers.map(() => []);
    for (let round = 0; round < 40; round++) {
      gossip();
      ledgers.forEach((l, i) => {
        // Requests hold their seats about 400 ms; the flood asks 10 times a round on nodes 0 and 1 and twice on the others.
        for (const r of [...held[i]!.splice(0), ...calmHeld[i]!.splice(0)]) l.release(r);
        const calmAsk = l.admit(calm);
        if (!calmAsk.ok) throw new Error(`calm was refused: ${calmAsk.refusal}`);
        calmHeld[i]!.push(calmAsk.reservation);
        for (let k = 0; k < (i < 2 ? 10 : 2); k++) {
          const result = l.admit(flood);
          if (result.ok) held[i]!.push(result.reservation);
        }
      });
      peak = Math.max(peak, held.reduce((sum, h) => sum + h.length, 0));
      advance(400);
    }
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(5);
    // It asks far beyond its share: refused outright, not queued.
    expect(ledgers[0]!.admit(flood)).toMatchObject({ ok: false, refusal: 'tenant' });
  });

  it('once the fleet has heard of it, a tenant under its share uses room beyond its part here', () => {
    const { ledgers, gossip } = fleetOf(4);
    expect(ledgers[1]!.admit(flood).ok).toBe(true);
    gossip();
    // All of calm's requests come to node 0. New to the fleet, it keeps to at most an even part
    // (2.5 of its 10; a node the peers have not heard ask yet holds less still)...
    const before = fill(ledgers[0]!, calm);
    expect(before.length).toBeLessThanOrEqual(2);
    // ...and as the fleet hears where its demand arrives (node 0's share of the deployment grows
    // with it, and the bulk pool may use half of each node's share), to all of its share.
    let held = before.length;
    for (let round = 0; round < 4 && held < 10; round++) {
      gossip();
      held += fill(ledgers[0]!, calm).length;
    }
    expect(held).toBe(10);
    expect(ledgers[0]!.admit(calm)).toMatchObject({ ok: false, refusal: 'tenant_share' });
  });
});
