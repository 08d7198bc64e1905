/** The bucketed outcome window: counts as an exact list would, give or take one bucket at the old edge. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countOutcomes, emptyWindow, recordOutcome, WINDOW_BUCKETS } from '../../machines/outcome-window.js';

const WINDOW_MS = 30_000;

describe('outcome window', () => {
  it('counts requests and faults inside the window and forgets them after it', () => {
    let w = emptyWindow(WINDOW_MS);
    w = recordOutcome(w, 1_000, false);
    w = recordOutcome(w, 1_500, true);
    w = recordOutcome(w, 20_000, false);
    expect(countOutcomes(w, 20_000, WINDOW_MS)).toEqual({ requests: 3, faults: 1 });
    expect(countOutcomes(w, 45_000, WINDOW_MS)).toEqual({ requests: 1, faults: 0 });
    expect(countOutcomes(w, 60_000, WINDOW_MS)).toEqual({ requests: 0, faults: 0 });
  });

  it('reuses a bucket for a later slice and ignores an outcome older than the window', () => {
    let w = recordOutcome(emptyWindow(WINDOW_MS), 500, true);
    w = recordOutcome(w, 31_500, false);
    expect(countOutcomes(w, 31_500, WINDOW_MS)).toEqual({ requests: 1, faults: 0 });
    expect(recordOutcome(w, 600, true)).toBe(w);
  });

  it('agrees with an exact count, give or take the outcomes of one bucket at the old edge', () => {
    const bucketMs = WINDOW_MS / WINDOW_BUCKETS;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 120_000 }), fc.boolean()), { minLength: 1, maxLength: 300 }), (outcomes) => {
        const sorted = [...outcomes].sort((a, b) => a[0] - b[0]);
        const now = sorted.at(-1)![0];
        const w = sorted.reduce((acc, [at, fault]) => recordOutcome(acc, at, fault), emptyWindow(WINDOW_MS));
        const exact = sorted.filter(([at]) => at > now - WINDOW_MS).length;
        const edge = sorted.filter(([at]) => at > now - WINDOW_MS - bucketMs && at <= now - WINDOW_MS).length;
        const counted = countOutcomes(w, now, WINDOW_MS).requests;
        expect(counted).toBeGreaterThanOrEqual(exact);
        expect(counted).toBeLessThanOrEqual(exact + edge);
      }),
    );
  });
});
