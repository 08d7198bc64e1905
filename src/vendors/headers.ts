/**
 * Reading what vendors say in headers: how long to wait (retry-after in its several spellings) and
 * what capacity is left (anthropic-ratelimit-*, x-ratelimit-*), for the capacity loop.
 */
import type { CapacityHints } from './types.js';

export type Headers = Record<string, string | string[] | undefined>;

export function header(headers: Headers, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** retry-after-ms, then Azure's x-ms-retry-after-ms, then retry-after in seconds or as an HTTP date. */
export function retryAfterMs(headers: Headers, now: number = Date.now()): number | undefined {
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const ms = Number.parseFloat(header(headers, name) ?? '');
    if (Number.isFinite(ms) && ms >= 0) return ms;
  }
  const value = header(headers, 'retry-after');
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** One number and its unit, matched where the last one ended (sticky): the parts must cover the text. */
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|h|m|s)/y;
const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** Go-style durations as OpenAI sends them: `1s`, `6m0s`, `12ms`, `1h2m3.5s`. Read on every response, so no arrays. */
export function parseDurationMs(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  DURATION_PART.lastIndex = 0;
  let sum = 0;
  while (DURATION_PART.lastIndex < trimmed.length) {
    const part = DURATION_PART.exec(trimmed);
    if (!part) return undefined;
    sum += Number(part[1]) * UNIT_MS[part[2]!]!;
  }
  return sum;
}

function number(headers: Headers, name: string): number | undefined {
  const value = Number(header(headers, name));
  // Azure sends -1 for limits it does not report.
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}

function resetMs(headers: Headers, name: string, now: number): number | undefined {
  const value = header(headers, name);
  if (value === undefined) return undefined;
  const duration = parseDurationMs(value);
  if (duration !== undefined) return duration;
  const instant = Date.parse(value);
  return Number.isNaN(instant) ? undefined : Math.max(0, instant - now);
}

export function capacityHints(headers: Headers, now: number = Date.now()): CapacityHints {
  const hints: CapacityHints = {};
  const set = <K extends keyof CapacityHints>(key: K, value: number | undefined) => {
    if (value !== undefined) hints[key] = value;
  };
  // Anthropic: RFC 3339 reset instants; OpenAI and Azure: counts and Go-style durations.
  set('requestsLimit', number(headers, 'anthropic-ratelimit-requests-limit') ?? number(headers, 'x-ratelimit-limit-requests'));
  set('requestsRemaining', number(headers, 'anthropic-ratelimit-requests-remaining') ?? number(headers, 'x-ratelimit-remaining-requests'));
  set('requestsResetMs', resetMs(headers, 'anthropic-ratelimit-requests-reset', now) ?? resetMs(headers, 'x-ratelimit-reset-requests', now));
  set('tokensLimit', number(headers, 'anthropic-ratelimit-tokens-limit') ?? number(headers, 'x-ratelimit-limit-tokens'));
  set('tokensRemaining', number(headers, 'anthropic-ratelimit-tokens-remaining') ?? number(headers, 'x-ratelimit-remaining-tokens'));
  set('tokensResetMs', resetMs(headers, 'anthropic-ratelimit-tokens-reset', now) ?? resetMs(headers, 'x-ratelimit-reset-tokens', now));
  return hints;
}
