/**
 * Learning the real quota: a deployment configured at twice what its vendor allows, driven on a
 * simulated clock against the simulator's own quota enforcement (src/simulator/quota.ts), with
 * no rate-limit headers to read (as on Bedrock and Vertex): only 429s teach the ledger.
 */
import { describe, expect, it } from 'vitest';
import { CapacityLedger } from '../../src/capacity/index.js';
import { DeploymentQuota } from '../../src/simulator/quota.js';
import { A, capacityConfig } from './fixture.js';

const REAL = { rpm: 600, tpm: 10_000_000, concurrency: 1_000 };
const CONFIGURED = { ...REAL, rpm: 1_200 };

function drive(seconds: number, perSecond: number, learnFromHeaders: boolean) {
  let t = 0;
  const now = () => t;
  const ledger = new CapacityLedger(capacityConfig({ pools: {} }, CONFIGURED), { now });
  const vendor = new DeploymentQuota(REAL, now);
  const throttlesAt: number[] = [];
  const learnedAt: { at: number; rpm: number }[] = [];
  for (let i = 0; i < seconds * perSecond; i++) {
    t = (i * 1000) / perSecond;
    const admitted = ledger.admit({ deployment: A, pool: '(shared)', priority: 'standard', tenant: { name: 't', maxShare: 100 }, tokens: 10, owner: `r${i}` });
    if (admitted.ok) {
      const verdict = vendor.admit(10);
      if (verdict.ok) {
        vendor.release();
        if (learnFromHeaders) ledger.heard(A, { requestsLimit: vendor.state().requestsLimit });
      } else {
        throttlesAt.push(t);
        ledger.throttled(A);
      }
      ledger.release(admitted.reservation);
    }
    if (i % perSecond === 0) learnedAt.push({ at: t, rpm: ledger.limits(A)?.rpm ?? NaN });
  }
  return { throttlesAt, learnedAt };
}

describe('learning the real quota', () => {
  it('from 429s alone, a quota configured at twice the real one converges to it within a simulated minute', () => {
    const { throttlesAt, learnedAt } = drive(180, 20, false);
    const converged = learnedAt.find((l) => l.rpm <= REAL.rpm * 1.02);
    expect(converged).toBeDefined();
    expect(converged!.at).toBeLessThanOrEqual(60_000);
    // From then on it stays near the real one: it probes a little above (a 429 now and then) and
    // never climbs back toward the configured quota.
    const after = learnedAt.filter((l) => l.at >= 60_000);
    expect(after.length).toBeGreaterThan(100);
    const low = Math.min(...after.map((l) => l.rpm));
    const high = Math.max(...after.map((l) => l.rpm));
    expect(low).toBeGreaterThanOrEqual(REAL.rpm * 0.9);
    expect(high).toBeLessThanOrEqual(REAL.rpm * 1.15);
    const late = throttlesAt.filter((at) => at >= 60_000).length;
    const sent = 120 * 20;
    console.log(`429s alone: converged at ${(converged!.at / 1000).toFixed(0)} s; learned ${Math.round(low)}-${Math.round(high)} rpm after; 429s in the first minute ${throttlesAt.length - late}, in the next two ${late} (of ${sent} asked)`);
    // A probe above the real limit costs a 429 about every half minute: under 0.5 % of requests.
    expect(late).toBeGreaterThan(0);
    expect(late / sent).toBeLessThan(0.005);
  });

  it("with the vendor's rate-limit headers, the limit is the vendor's from the first answer and 429s stop", () => {
    const { throttlesAt, learnedAt } = drive(120, 20, true);
    expect(learnedAt.at(-1)?.rpm).toBe(REAL.rpm);
    console.log(`headers: 429s ${throttlesAt.length}`);
    expect(throttlesAt.filter((at) => at >= 60_000)).toEqual([]);
  });
});
