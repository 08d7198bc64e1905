import { describe, expect, it } from 'vitest';
import { LatencyProfileSchema } from '../../src/simulator/index.js';
import { drawLatency, driftFactor } from '../../src/simulator/latency.js';
import { DeploymentQuota } from '../../src/simulator/quota.js';
import { seededRandom } from '../../src/simulator/random.js';

const percentile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.floor(q * values.length)] ?? NaN;

describe('latency model', () => {
  it('draws time to first token with the configured median and 95th percentile', () => {
    const profile = LatencyProfileSchema.parse({ ttftMs: { median: 400, p95: 1200 }, tokensPerSecond: { mean: 50, sd: 5 } });
    const random = seededRandom(42);
    const draws = Array.from({ length: 20_000 }, () => drawLatency(profile, { random, simulatedMs: 0, scale: 1, slowdown: 1 }));
    expect(percentile(draws.map((d) => d.ttftMs), 0.5)).toBeGreaterThan(380);
    expect(percentile(draws.map((d) => d.ttftMs), 0.5)).toBeLessThan(420);
    expect(percentile(draws.map((d) => d.ttftMs), 0.95)).toBeGreaterThan(1100);
    expect(percentile(draws.map((d) => d.ttftMs), 0.95)).toBeLessThan(1300);
    expect(percentile(draws.map((d) => 1000 / d.interTokenMs), 0.5)).toBeCloseTo(50, -1);
  });

  it('is the same for the same seed, slower in a brownout, and instant at scale 0', () => {
    const profile = LatencyProfileSchema.parse({});
    const draw = (seed: number, extra: { scale?: number; slowdown?: number } = {}) =>
      drawLatency(profile, { random: seededRandom(seed), simulatedMs: 0, scale: 1, slowdown: 1, ...extra });
    expect(draw(5)).toEqual(draw(5));
    expect(draw(5, { slowdown: 4 }).ttftMs).toBeCloseTo(draw(5).ttftMs * 4);
    expect(draw(5, { scale: 0 })).toEqual({ ttftMs: 0, interTokenMs: 0 });
  });

  it('drifts over the simulated day', () => {
    const profile = LatencyProfileSchema.parse({ drift: { amplitude: 0.5 } });
    const hour = 3_600_000;
    expect(driftFactor(profile, 0)).toBeCloseTo(1);
    expect(driftFactor(profile, 6 * hour)).toBeCloseTo(1.5);
    expect(driftFactor(profile, 18 * hour)).toBeCloseTo(0.5);
  });
});

describe('deployment quota', () => {
  it('refuses past requests per minute, tokens per minute and concurrency, and frees with time', () => {
    let now = 0;
    const quota = new DeploymentQuota({ rpm: 2, tpm: 1000, concurrency: 5 }, () => now);
    expect(quota.admit(100)).toEqual({ ok: true });
    expect(quota.admit(100)).toEqual({ ok: true });
    expect(quota.admit(100)).toMatchObject({ ok: false, limit: 'rpm' });
    now = 60_001;
    expect(quota.admit(100)).toEqual({ ok: true });
    expect(quota.admit(5000)).toMatchObject({ ok: false, limit: 'tpm' });

    const narrow = new DeploymentQuota({ rpm: 100, tpm: 100_000, concurrency: 1 }, () => now);
    expect(narrow.admit(1)).toEqual({ ok: true });
    expect(narrow.admit(1)).toMatchObject({ ok: false, limit: 'concurrency' });
    narrow.release();
    expect(narrow.admit(1)).toEqual({ ok: true });
  });

  it('reports what is left, as rate-limit headers need', () => {
    let now = 1_000;
    const quota = new DeploymentQuota({ rpm: 10, tpm: 1000, concurrency: 5 }, () => now);
    quota.admit(300);
    now = 11_000;
    expect(quota.state()).toEqual({ requestsLimit: 10, requestsRemaining: 9, tokensLimit: 1000, tokensRemaining: 700, resetMs: 50_000, peakConcurrencyAsked: 1 });
  });
});
