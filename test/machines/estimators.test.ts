/** The latency samples a health machine keeps, and the percentiles read from them. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { percentile, pushSample, RECENT_SAMPLES } from '../../machines/estimators.js';

const naive = (values: readonly number[], q: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))];

describe('latency samples', () => {
  it('keep the last RECENT_SAMPLES in order, and never change an array already made', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 10_000 }), { maxLength: 200 }), (values) => {
        let samples: number[] = [];
        const seen: { array: number[]; copy: number[] }[] = [];
        for (const v of values) {
          samples = pushSample(samples, v);
          seen.push({ array: samples, copy: [...samples] });
        }
        expect(samples).toEqual(values.slice(-RECENT_SAMPLES));
        for (const { array, copy } of seen) expect(array).toEqual(copy);
      }),
    );
  });

  it('give the same percentile as sorting them afresh, read once or many times', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: 1, maxLength: 100 }), fc.double({ min: 0, max: 1, noNaN: true }), (values, q) => {
        let samples: number[] = [];
        for (const v of values) {
          samples = pushSample(samples, v);
          expect(percentile(samples, q)).toBe(naive(samples, q));
          expect(percentile(samples, 0.95)).toBe(naive(samples, 0.95));
        }
      }),
    );
    expect(percentile([], 0.95)).toBeUndefined();
  });
});
