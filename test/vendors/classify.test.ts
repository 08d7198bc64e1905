/** The error policy table (docs/design.md §3), row by row. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyHttpFailure, classifyStreamError } from '../../src/vendors/classify.js';
import { capacityHints, parseDurationMs, retryAfterMs } from '../../src/vendors/headers.js';

const source = { vendor: 'anthropic' as const, vendorRegion: 'anthropic' };
const classify = (status: number, vendorCode?: string, retryAfter?: number) => classifyHttpFailure({ ...source, status, vendorCode, retryAfterMs: retryAfter });

describe('error policy', () => {
  it.each([
    // status, vendor code, code, class, retryable, persistent, scope
    [429, 'rate_limit_error', 'vendor_rate_limited', 'capacity', true, false, 'deployment'],
    [429, 'ThrottlingException', 'vendor_rate_limited', 'capacity', true, false, 'deployment'],
    [429, 'insufficient_quota', 'vendor_quota_exhausted', 'quota_exhausted', true, true, 'deployment'],
    [429, 'enforced_spend_limit_reached', 'vendor_quota_exhausted', 'quota_exhausted', true, true, 'deployment'],
    [400, 'ServiceQuotaExceededException', 'vendor_quota_exhausted', 'quota_exhausted', true, true, 'deployment'],
    [529, 'overloaded_error', 'vendor_overloaded', 'fault', true, false, 'deployment'],
    [503, 'ServiceUnavailableException', 'vendor_overloaded', 'fault', true, false, 'deployment'],
    [500, 'api_error', 'vendor_unavailable', 'fault', true, false, 'deployment'],
    [502, undefined, 'vendor_unavailable', 'fault', true, false, 'vendor_region'],
    [503, undefined, 'vendor_unavailable', 'fault', true, false, 'vendor_region'],
    [504, 'timeout_error', 'vendor_timeout', 'fault', true, false, 'deployment'],
    [408, undefined, 'vendor_timeout', 'fault', true, false, 'deployment'],
    [424, 'ModelErrorException', 'vendor_unavailable', 'fault', true, false, 'deployment'],
    [401, 'authentication_error', 'vendor_auth', 'fault', true, true, 'vendor_region'],
    [403, 'AccessDeniedException', 'vendor_auth', 'fault', true, true, 'vendor_region'],
    [404, 'not_found_error', 'vendor_not_found', 'fault', true, true, 'deployment'],
    [400, 'invalid_request_error', 'vendor_rejected', 'caller', false, false, 'deployment'],
    [413, 'request_too_large', 'vendor_rejected', 'caller', false, false, 'deployment'],
    [422, undefined, 'vendor_rejected', 'caller', false, false, 'deployment'],
    [400, 'content_filter', 'vendor_content_filter', 'caller', false, false, 'deployment'],
    [409, undefined, 'vendor_rate_limited', 'capacity', true, false, 'deployment'],
  ] as const)('HTTP %i %s → %s (%s)', (status, vendorCode, code, failureClass, retryable, persistent, scope) => {
    expect(classify(status, vendorCode)).toMatchObject({ code, failureClass, retryable, persistent, scope, status });
  });

  it('treats a 429 that asks for more than a minute as a used-up quota, not a burst', () => {
    expect(classify(429, '429', 86_400_000)).toMatchObject({ code: 'vendor_quota_exhausted', retryAfterMs: 86_400_000 });
    expect(classify(429, '429', 6_000)).toMatchObject({ code: 'vendor_rate_limited', retryAfterMs: 6_000 });
  });

  it('classifies in-stream errors by their code, all retryable before the first token', () => {
    expect(classifyStreamError({ ...source, vendorCode: 'overloaded_error', message: 'Overloaded' })).toMatchObject({ code: 'vendor_overloaded', failureClass: 'fault', retryable: true });
    expect(classifyStreamError({ ...source, vendorCode: 'throttlingException', message: 'slow down' })).toMatchObject({ code: 'vendor_rate_limited', failureClass: 'capacity' });
    expect(classifyStreamError({ ...source, vendorCode: 'server_error', message: 'oops' })).toMatchObject({ code: 'vendor_stream_error', failureClass: 'fault' });
  });

  it('says what to do next in every error', () => {
    expect(classify(400, 'invalid_request_error').hint).toMatch(/fix the request/i);
    expect(classify(429, 'insufficient_quota').hint).toMatch(/raise it/i);
  });
});

describe('vendor headers', () => {
  it('reads retry-after in all its spellings', () => {
    expect(retryAfterMs({ 'retry-after-ms': '1500.5' })).toBe(1500.5);
    expect(retryAfterMs({ 'x-ms-retry-after-ms': '250' })).toBe(250);
    expect(retryAfterMs({ 'retry-after': '7' })).toBe(7000);
    expect(retryAfterMs({ 'retry-after': new Date(10_000).toUTCString() }, 4_000)).toBe(6000);
    expect(retryAfterMs({ 'retry-after': 'soon' })).toBeUndefined();
    expect(retryAfterMs({})).toBeUndefined();
  });

  it('parses Go-style durations', () => {
    expect(parseDurationMs('12ms')).toBe(12);
    expect(parseDurationMs('6m0s')).toBe(360_000);
    expect(parseDurationMs('1h2m3.5s')).toBe(3_723_500);
    expect(parseDurationMs('later')).toBeUndefined();
    expect(parseDurationMs(' 1s ')).toBe(1000);
    expect(parseDurationMs('1s later')).toBeUndefined();
    expect(parseDurationMs('x1s')).toBeUndefined();
    expect(parseDurationMs('')).toBeUndefined();
  });

  it('reads any duration as the list-based reader it replaced did', () => {
    // The first reader, kept as the reference: every match joined must be the whole text.
    const reference = (text: string) => {
      const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)];
      if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text.trim()) return undefined;
      const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
      return parts.reduce((sum, [, n, u]) => sum + Number(n) * (unit[u ?? 's'] ?? 0), 0);
    };
    const piece = fc.oneof(fc.constantFrom('1', '12', '3.5', '0', 'h', 'm', 's', 'ms', ' ', 'x', '.', '-'), fc.nat(999).map(String));
    let durations = 0;
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }).map((p) => p.join('')), (text) => {
        const expected = reference(text);
        if (expected !== undefined) durations++;
        expect(parseDurationMs(text)).toBe(expected);
      }),
      { numRuns: 2_000, seed: 12 },
    );
    // The texts held real durations too, not only garbage.
    expect(durations).toBeGreaterThan(50);
  });

  it('turns Anthropic and OpenAI rate-limit headers into capacity hints', () => {
    const now = Date.parse('2025-08-21T12:40:00Z');
    expect(
      capacityHints(
        {
          'anthropic-ratelimit-requests-limit': '1000',
          'anthropic-ratelimit-requests-remaining': '999',
          'anthropic-ratelimit-requests-reset': '2025-08-21T12:40:59Z',
          'anthropic-ratelimit-tokens-remaining': '80000',
        },
        now,
      ),
    ).toEqual({ requestsLimit: 1000, requestsRemaining: 999, requestsResetMs: 59_000, tokensRemaining: 80_000 });
    expect(
      capacityHints({ 'x-ratelimit-limit-requests': '5000', 'x-ratelimit-remaining-tokens': '159976', 'x-ratelimit-reset-tokens': '9ms', 'x-ratelimit-limit-tokens': '-1' }),
    ).toEqual({ requestsLimit: 5000, tokensRemaining: 159_976, tokensResetMs: 9 });
  });
});
