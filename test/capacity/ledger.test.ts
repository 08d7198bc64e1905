/**
 * The capacity ledger's rules, on plain numbers and a hand-driven clock: one-way borrowing,
 * priority shedding, tenant shares, the fleet share between digests, and that every reservation
 * is released exactly once whatever happens.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CapacityLedger, type AdmissionRequest, type Reservation } from '../../src/capacity/index.js';
import { A, B, capacityConfig, clock, fill, fleetOf } from './fixture.js';

const ask = (pool: string, over: Partial<AdmissionRequest> = {}): AdmissionRequest => ({
  deployment: A,
  pool,
  priority: pool === 'flagship' ? 'critical' : 'batch',
  tenant: { name: 'acme', maxShare: 100 },
  tokens: 100,
  owner: 'o',
  ...over,
});


describe('pools: one-way borrowing', () => {
  it('a lower pool never spends the critical pool’s reserve, however idle it is', () => {
    const ledger = new CapacityLedger(capacityConfig(), { now: clock().now });
    const bulk = fill(ledger, ask('bulk'));
    // Concurrency 20, flagship reserves 50 %: the bulk pool gets its own 10 and not one more.
    expect(bulk).toHaveLength(10);
    const refused = ledger.admit(ask('bulk'));
    expect(refused).toMatchObject({ ok: false, refusal: 'pool' });
    expect(ledger.status()[A]?.borrowed.bulk ?? 0).toBe(0);
  });

  it('the critical pool borrows what idle lower pools do not use, and lower admissions stop at once when it does', () => {
    const ledger = new CapacityLedger(capacityConfig(), { now: clock().now });
    const flagship = fill(ledger, ask('flagship'));
    expect(flagship).toHaveLength(20);
    expect(ledger.status()[A]?.borrowed.flagship).toBe(10);
    expect(ledger.admit(ask('bulk'))).toMatchObject({ ok: false, refusal: 'pool' });
    // Flagship gives back five seats: they are the bulk pool's own, so bulk may take them again
    // (asking as critical, so that priority headroom plays no part here).
    for (const r of flagship.slice(0, 5)) ledger.release(r);
    expect(fill(ledger, ask('bulk', { priority: 'critical' }))).toHaveLength(5);
  });
});

describe('priority', () => {
  it('sheds the lowest priority first as a pool nears its limit, while more important requests are about', () => {
    const ledger = new CapacityLedger(capacityConfig(), { now: clock().now });
    // Alone, batch may fill its pool.
    expect(fill(ledger, ask('bulk', { priority: 'batch', owner: 'first' }))).toHaveLength(10);
    ledger.releaseOwner('first');
    // A standard request has asked: now batch stops at 80 % of the pool, standard at 90 %.
    expect(ledger.admit(ask('bulk', { priority: 'standard', owner: 's' })).ok).toBe(true);
    const batch = fill(ledger, ask('bulk', { priority: 'batch' }));
    expect(batch).toHaveLength(7);
    expect(ledger.admit(ask('bulk', { priority: 'batch' }))).toMatchObject({ ok: false, refusal: 'priority' });
    expect(ledger.admit(ask('bulk', { priority: 'standard', owner: 's' })).ok).toBe(true);
    // Shed twice: the refusal that ended the fill, and the one above.
    expect(ledger.status()[A]?.shedByPriority).toMatchObject({ batch: 2, standard: 0 });
  });
});

describe('tenants', () => {
  it('no tenant holds more than its share of a contended pool; alone, a tenant may use it all', () => {
    const ledger = new CapacityLedger(capacityConfig(), { now: clock().now });
    const alone = fill(ledger, ask('flagship', { tenant: { name: 'flood', maxShare: 25 }, owner: 'alone' }));
    expect(alone).toHaveLength(20);
    ledger.releaseOwner('alone');
    const other = ledger.admit(ask('flagship', { tenant: { name: 'acme', maxShare: 50 } }));
    expect(other.ok).toBe(true);
    // Another tenant is active: flood is held to 25 % of the 20 the pool may use, and told so.
    const flood = fill(ledger, ask('flagship', { tenant: { name: 'flood', maxShare: 25 } }));
    expect(flood).toHaveLength(5);
    expect(ledger.admit(ask('flagship', { tenant: { name: 'flood', maxShare: 25 } }))).toMatchObject({ ok: false, refusal: 'tenant' });
    expect(fill(ledger, ask('flagship', { tenant: { name: 'acme', maxShare: 50 } }))).toHaveLength(9);
  });
});

describe("the vendor's word", () => {
  it('spends no more than the headers said is left of the window, until it resets', () => {
    const time = clock();
    const ledger = new CapacityLedger(capacityConfig({ pools: {} }), { now: time.now });
    ledger.heard(A, { requestsRemaining: 2, requestsResetMs: 10_000 });
    expect(fill(ledger, ask('(shared)', { priority: 'critical' }))).toHaveLength(2);
    expect(ledger.admit(ask('(shared)', { priority: 'critical' }))).toMatchObject({ ok: false, refusal: 'vendor_word', retryAfterMs: 10_000 });
    expect(ledger.vendorRequestsLeft(A)).toBe(0);
    time.advance(10_000);
    expect(ledger.vendorRequestsLeft(A)).toBe(Infinity);
    expect(ledger.admit(ask('(shared)', { priority: 'critical' })).ok).toBe(true);
  });
});

describe('reservations', () => {
  const command = fc.oneof(
    fc.record({ kind: fc.constant('admit' as const), owner: fc.integer({ min: 0, max: 5 }), deployment: fc.constantFrom(A, B), pool: fc.constantFrom('flagship', 'bulk', 'nowhere'), tokens: fc.integer({ min: 1, max: 5000 }) }),
    fc.record({ kind: fc.constant('release' as const), pick: fc.nat(), twice: fc.boolean() }),
    fc.record({ kind: fc.constant('claim' as const), pick: fc.nat() }),
    fc.record({ kind: fc.constant('settle' as const), pick: fc.nat(), tokens: fc.integer({ min: 0, max: 10_000 }) }),
    fc.record({ kind: fc.constant('end' as const), owner: fc.integer({ min: 0, max: 5 }) }),
    fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 30_000 }) }),
  );

  it('every reservation is released exactly once, however requests and attempts end; in flight returns to 0', () => {
    fc.assert(
      fc.property(fc.array(command, { minLength: 1, maxLength: 200 }), (commands) => {
        const time = clock();
        const ledger = new CapacityLedger(capacityConfig(), { now: time.now });
        const held: Reservation[] = [];
        let admitted = 0;
        for (const c of commands) {
          if (c.kind === 'admit') {
            const result = ledger.admit({ deployment: c.deployment, pool: c.pool, priority: 'critical', tenant: { name: `t${c.owner % 2}`, maxShare: 100 }, tokens: c.tokens, owner: `o${c.owner}` });
            if (result.ok) {
              admitted++;
              held.push(result.reservation);
            }
          } else if (c.kind === 'release' && held.length > 0) {
            const r = held[c.pick % held.length]!;
            ledger.release(r);
            if (c.twice) ledger.release(r);
          } else if (c.kind === 'claim' && held.length > 0) {
            // An attempt calling the vendor: its owner ending does not release it, the attempt does.
            ledger.claim(held[c.pick % held.length]!);
          } else if (c.kind === 'settle' && held.length > 0) {
            ledger.settle(held[c.pick % held.length]!, c.tokens);
          } else if (c.kind === 'end') ledger.releaseOwner(`o${c.owner}`);
          else if (c.kind === 'tick') time.advance(c.ms);
          const live = held.filter((r) => !r.released).length;
          expect(ledger.outstanding()).toBe(live);
          expect(ledger.inFlight(A) + ledger.inFlight(B)).toBe(live);
        }
        for (let owner = 0; owner <= 5; owner++) ledger.releaseOwner(`o${owner}`);
        expect(ledger.outstanding()).toBe(held.filter((r) => !r.released && r.claimed).length);
        // The attempts' calls settle: each releases its own.
        for (const r of held) if (r.claimed) ledger.release(r);
        const status = ledger.status();
        expect(ledger.outstanding()).toBe(0);
        expect(ledger.inFlight(A) + ledger.inFlight(B)).toBe(0);
        expect((status[A]?.released ?? 0) + (status[B]?.released ?? 0)).toBe(admitted);
        expect((status[A]?.admitted ?? 0) + (status[B]?.admitted ?? 0)).toBe(admitted);
      }),
      { numRuns: 300, seed: 9 },
    );
  });
});

describe('the fleet: each node holds at most its share', () => {
  /**
   * Rounds of gossip, then releases and asks on every node, as fast-check draws them; `ask` is
   * what node i asks for. Returns the most the fleet held at once.
   */
  const fleetPeak = (maxWant: number, pools: boolean, ask: (i: number) => AdmissionRequest) =>
    fc.integer({ min: 2, max: 6 }).chain((n) =>
      fc.array(fc.record({ wants: fc.array(fc.integer({ min: 0, max: maxWant }), { minLength: 6, maxLength: 6 }), releases: fc.array(fc.integer({ min: 0, max: maxWant / 3 }), { minLength: 6, maxLength: 6 }) }), { minLength: 1, maxLength: 15 }).map((rounds) => {
        const time = clock();
        const { ledgers, gossip } = fleetOf(n, time.now, pools);
        const held: Reservation[][] = ledgers.map(() => []);
        let peak = 0;
        for (const round of rounds) {
          gossip();
          ledgers.forEach((ledger, i) => {
            for (const r of held[i]!.splice(0, round.releases[i] ?? 0)) ledger.release(r);
            for (let k = 0; k < (round.wants[i] ?? 0); k++) {
              const result = ledger.admit(ask(i));
              if (result.ok) held[i]!.push(result.reservation);
            }
          });
          peak = Math.max(peak, ledgers.reduce((sum, l) => sum + l.inFlight(A), 0));
          time.advance(250);
        }
        return peak;
      }),
    );

  it('N nodes never hold more than the quota together, whatever each one wants (property)', () => {
    const shared = (i: number): AdmissionRequest => ({ deployment: A, pool: '(shared)', priority: 'critical', tenant: { name: 't', maxShare: 100 }, tokens: 1, owner: `n${i}` });
    fc.assert(
      fc.property(fleetPeak(60, false, shared), (peak) => {
        expect(peak).toBeLessThanOrEqual(40);
      }),
      { numRuns: 200, seed: 4 },
    );
  });

  /** A one-token batch request of the bulk pool's only tenant. */
  const bulk = (owner: string): AdmissionRequest => ({ ...ask('bulk'), tenant: { name: 'worker', maxShare: 100 }, tokens: 1, owner });

  it("N nodes flooded by a lower pool never spend an idle critical pool's reserve together, however stale their view (property)", () => {
    // Bulk may use the 20 of 40 the flagship's reserve leaves.
    fc.assert(
      fc.property(fleetPeak(30, true, (i) => bulk(`n${i}`)), (peak) => {
        expect(peak).toBeLessThanOrEqual(20);
      }),
      { numRuns: 200, seed: 5 },
    );
  });

  it("a node whose share a lower pool fills still admits the critical pool's requests", () => {
    const time = clock();
    const { ledgers, gossip } = fleetOf(4, time.now, true);
    for (const ledger of ledgers) ledger.admit(bulk('warm'));
    gossip();
    const node = ledgers[0]!;
    const flood = fill(node, bulk('flood'));
    expect(node.admit(bulk('flood'))).toMatchObject({ ok: false, refusal: 'fleet_share' });
    const flagship = fill(node, { ...ask('flagship'), tokens: 1, owner: 'f' });
    console.log(`one node of four: bulk took ${flood.length + 1} of its share, the flagship then ${flagship.length}`);
    expect(flagship.length).toBeGreaterThan(0);
    expect(flagship.length).toBeGreaterThanOrEqual(flood.length);
  });

  it('a node whose peers fall silent keeps to a safe part of the quota, not all of it', () => {
    const time = clock();
    const { ledgers, gossip } = fleetOf(4, time.now);
    gossip();
    const alone = ledgers[0]!;
    alone.applyPeers(new Map());
    const held = fill(alone, { deployment: A, pool: '(shared)', priority: 'critical', tenant: { name: 't', maxShare: 100 }, tokens: 1, owner: 'x' });
    // 0.8 of a quarter of 40.
    expect(held.length).toBeLessThanOrEqual(8);
    expect(held.length).toBeGreaterThan(0);
  });
});
