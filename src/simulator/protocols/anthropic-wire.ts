/**
 * How a simulated Anthropic-family vendor writes: the error envelope, rate-limit headers and the
 * SSE stream. Shared by the Anthropic and Vertex simulators, whose streams are the same bytes.
 */
import type { ServerResponse } from 'node:http';
import type { Deployment } from '../../config/index.js';
import { AnthropicStreamEncoder, formatSse } from '../../vendors/anthropic/stream.js';
import type { Refusal } from '../engine.js';
import { retryAfterSeconds, sendJson, type Exchange, type StreamWriter } from '../protocol.js';

const STREAM_ERRORS = {
  overloaded: { type: 'overloaded_error', message: 'Overloaded' },
  server_error: { type: 'api_error', message: 'Internal server error' },
  rate_limited: { type: 'rate_limit_error', message: 'Rate limited mid-stream' },
} as const;

export function anthropicError(res: ServerResponse, status: number, type: string, message: string, headers: Record<string, string | number> = {}): void {
  sendJson(res, status, { type: 'error', error: { type, message }, request_id: `req_sim_${Date.now().toString(36)}` }, headers);
}

export function rateLimitHeaders(exchange: Exchange, deployment: Deployment): Record<string, string | number> {
  const state = exchange.sim.quotaState(deployment);
  const reset = new Date(Date.now() + state.resetMs).toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    'anthropic-ratelimit-requests-limit': state.requestsLimit,
    'anthropic-ratelimit-requests-remaining': state.requestsRemaining,
    'anthropic-ratelimit-requests-reset': reset,
    'anthropic-ratelimit-tokens-limit': state.tokensLimit,
    'anthropic-ratelimit-tokens-remaining': state.tokensRemaining,
    'anthropic-ratelimit-tokens-reset': reset,
  };
}

export function writeAnthropicRefusal(exchange: Exchange, deployment: Deployment, refusal: Exclude<Refusal, { kind: 'hang' }>): void {
  const headers = rateLimitHeaders(exchange, deployment);
  switch (refusal.kind) {
    case 'rate_limited':
      return anthropicError(exchange.res, 429, 'rate_limit_error', `This request would exceed the rate limit for your organization (${refusal.limit}).`, {
        ...headers,
        'retry-after': retryAfterSeconds(refusal.retryAfterMs),
      });
    case 'throttled':
      return anthropicError(exchange.res, 429, 'rate_limit_error', 'Too many requests.', { ...headers, 'retry-after': retryAfterSeconds(refusal.retryAfterMs) });
    case 'overloaded':
      return anthropicError(exchange.res, 529, 'overloaded_error', 'Overloaded', headers);
    case 'unavailable':
      return anthropicError(exchange.res, refusal.status, 'api_error', 'Internal server error', headers);
  }
}

export function anthropicStreamWriter(res: ServerResponse): StreamWriter {
  const encoder = new AnthropicStreamEncoder();
  return {
    event(event) {
      for (const out of encoder.encode(event)) res.write(formatSse(out.event, out.data));
    },
    malformed() {
      res.write('event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_de\n\n');
    },
    streamError(error) {
      res.write(formatSse('error', { type: 'error', error: STREAM_ERRORS[error] }));
    },
  };
}
