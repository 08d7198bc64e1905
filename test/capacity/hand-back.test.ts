/**
 * When a node has no room for a request and a peer has, the ledger says so (`elsewhere`), so the
 * node can hand the request back to its caller rather than make it wait; and a tenant holding its
 * whole share is no demand for the node's share of the deployment.
 */
import { describe, expect, it } from 'vitest';
import type { AdmissionRequest } from '../../src/capacity/index.js';
import { A, clock, fill, fleetOf } from './fixture.js';

const shared = (over: Partial<AdmissionRequest> = {}): AdmissionRequest => ({ deployment: A, pool: '(shared)', priority: 'critical', tenant: { name: 't', maxShare: 100 }, tokens: 1, owner: 'o', ...over });

describe('handing a request back', () => {
  it('a node whose part is full says a peer has room, and only to a caller that can send the request again', () => {
    const { ledgers, gossip } = fleetOf(4, clock().now);
    gossip();
    const node = ledgers[0]!;
    const held = fill(node, shared({ handBack: true }));
    // Four nodes of 40 with no demand yet: each starts at a quarter.
    expect(held).toHaveLength(10);
    expect(node.admit(shared({ handBack: true }))).toMatchObject({ ok: false, refusal: 'fleet_share', elsewhere: true, peer: expect.stringMatching(/^n[123]$/) });
    expect(node.admit(shared())).not.toHaveProperty('elsewhere');
  });

  it('names a peer that has room, never one whose part is full', () => {
    const { ledgers, gossip } = fleetOf(4, clock().now);
    gossip();
    // All four see the same demand; n0, n1 and n2 fill their parts, and n3 holds nothing.
    for (const ledger of ledgers.slice(0, 3)) fill(ledger, shared({ handBack: true }));
    const n3 = ledgers[3]!;
    for (const reservation of fill(n3, shared({ handBack: true }))) n3.release(reservation);
    gossip();
    const named = Array.from({ length: 20 }, () => ledgers[0]!.admit(shared({ handBack: true })));
    expect(named).toHaveLength(20);
    expect(named.every((r) => !r.ok && r.refusal === 'fleet_share' && 'peer' in r && r.peer === 'n3')).toBe(true);
  });

  it('names no peer when the fleet is full, nor when it hears no peer', () => {
    const { ledgers, gossip } = fleetOf(4, clock().now);
    gossip();
    for (const ledger of ledgers) fill(ledger, shared({ handBack: true }));
    gossip();
    const full = ledgers[0]!.admit(shared({ handBack: true }));
    expect(full).toMatchObject({ ok: false, refusal: 'pool' });
    expect(full).not.toHaveProperty('elsewhere');
    // Its peers fell silent: it keeps to a safe part, and there is no one to hand the request to.
    const alone = fleetOf(4, clock().now);
    alone.gossip();
    const node = alone.ledgers[0]!;
    node.applyPeers(new Map());
    expect(fill(node, shared({ handBack: true })).length).toBeGreaterThan(0);
    const refused = node.admit(shared({ handBack: true }));
    expect(refused).toMatchObject({ ok: false, refusal: 'fleet_share' });
    expect(refused).not.toHaveProperty('elsewhere');
  });

  it('never hands back a tenant refused for its own share', () => {
    const { ledgers, gossip } = fleetOf(2, clock().now);
    const calm = shared({ tenant: { name: 'acme', maxShare: 50 }, handBack: true });
    const flood = shared({ tenant: { name: 'flood', maxShare: 25 }, handBack: true });
    for (const ledger of ledgers) ledger.admit(calm);
    gossip();
    gossip();
    gossip();
    const refusals = ledgers.flatMap((ledger) => {
      fill(ledger, flood);
      return [ledger.admit(flood)];
    });
    expect(refusals.map((r) => (r.ok ? 'ok' : r.refusal))).toEqual(['tenant_share', 'tenant_share']);
    gossip();
    const full = ledgers[0]!.admit(flood);
    expect(full).toMatchObject({ ok: false });
    expect(full).not.toHaveProperty('elsewhere');
  });

  it('a tenant holding its whole share fleet-wide adds nothing to the demand its node reports', () => {
    const { ledgers, gossip } = fleetOf(2, clock().now);
    const calm = shared({ tenant: { name: 'acme', maxShare: 50 } });
    const flood = shared({ tenant: { name: 'flood', maxShare: 25 } });
    for (const ledger of ledgers) ledger.admit(calm);
    gossip();
    gossip();
    gossip();
    // 25 % of 40: five seats on each of the two nodes, which the next digests tell the fleet.
    for (const ledger of ledgers) expect(fill(ledger, flood)).toHaveLength(5);
    gossip();
    const node = ledgers[0]!;
    const before = node.report(A)!.demand;
    const refused = Array.from({ length: 50 }, () => node.admit(flood));
    expect(refused.every((r) => !r.ok && r.refusal === 'tenant_share')).toBe(true);
    expect(refused).toHaveLength(50);
    expect(node.report(A)!.demand).toBe(before);
  });
});
