/**
 * The simulated OpenAI Chat Completions API: `POST /v1/chat/completions` (and `/chat/completions`,
 * for clients whose base URL already ends in `/v1`) with a bearer key, answering in OpenAI's shapes
 * and headers, plain or as `data:`-only server-sent events; and `GET /v1/models`, the models the
 * vendor-region serves.
 */
import type { Deployment } from '../../config/index.js';
import { OpenAIRequestSchema } from '../../vendors/openai/wire.js';
import { deploymentByVendorModelId, retryAfterSeconds, sendJson, type Exchange, type ProtocolHandler } from '../protocol.js';
import {
  OVERLOADED,
  SERVER_ERROR,
  goDuration,
  openaiError,
  readChatRequest,
  serveChat,
  type AnsweredRefusal,
  type ChatDialect,
} from './openai-wire.js';

const CHAT_PATHS = new Set(['/v1/chat/completions', '/chat/completions']);
const MODELS_PATHS = new Set(['/v1/models', '/models']);
const ORGANIZATION = 'org-switchyard-sim';
/** A fixed creation time (2025-05-14), so listings are the same on every run. */
const MODELS_CREATED = 1_747_180_800;

export const openaiProtocol: ProtocolHandler = async (exchange) => {
  const { req, res, url, credentials, vendorRegion } = exchange;
  const listing = req.method === 'GET' && MODELS_PATHS.has(url.pathname);
  if (!listing && (req.method !== 'POST' || !CHAT_PATHS.has(url.pathname))) {
    return openaiError(res, 404, { message: `Invalid URL (${req.method ?? ''} ${url.pathname})`, type: 'invalid_request_error' });
  }
  const authorization = req.headers.authorization;
  if (authorization === undefined || !/^Bearer\s+\S/i.test(authorization)) {
    return openaiError(res, 401, {
      message: "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
      type: 'invalid_request_error',
    });
  }
  const key = authorization.replace(/^Bearer\s+/i, '');
  if (key !== credentials.apiKey) {
    return openaiError(res, 401, { message: `Incorrect API key provided: ${maskKey(key)}.`, type: 'invalid_request_error', code: 'invalid_api_key' });
  }
  if (listing) {
    // The models this account may use, as OpenAI lists them.
    const data = Object.values(vendorRegion.deployments).map((d) => ({ id: d.vendorModelId, object: 'model', created: MODELS_CREATED, owned_by: 'system' }));
    return sendJson(res, 200, { object: 'list', data });
  }
  const body = readChatRequest(exchange, OpenAIRequestSchema);
  if (!body) return;
  const deployment = deploymentByVendorModelId(vendorRegion, body.model);
  if (!deployment) {
    return openaiError(res, 404, {
      message: `The model \`${body.model}\` does not exist or you do not have access to it.`,
      type: 'invalid_request_error',
      code: 'model_not_found',
    });
  }
  await serveChat(exchange, deployment, body, openaiDialect);
};

/** As OpenAI echoes a wrong key: the start and the end, never the whole. */
function maskKey(key: string): string {
  return key.length <= 8 ? '*'.repeat(key.length) : `${key.slice(0, 3)}${'*'.repeat(Math.min(key.length - 7, 20))}${key.slice(-4)}`;
}

/** `x-ratelimit-*` as OpenAI sends them on every answer: counts, and resets as Go durations. */
function rateLimitHeaders(exchange: Exchange, deployment: Deployment): Record<string, string | number> {
  const state = exchange.sim.quotaState(deployment);
  const reset = goDuration(state.resetMs);
  return {
    'x-ratelimit-limit-requests': state.requestsLimit,
    'x-ratelimit-limit-tokens': state.tokensLimit,
    'x-ratelimit-remaining-requests': state.requestsRemaining,
    'x-ratelimit-remaining-tokens': state.tokensRemaining,
    'x-ratelimit-reset-requests': reset,
    'x-ratelimit-reset-tokens': reset,
  };
}

function commonHeaders(exchange: Exchange, deployment: Deployment, requestId: string): Record<string, string | number> {
  return {
    'x-request-id': requestId,
    'openai-organization': ORGANIZATION,
    'openai-version': '2020-10-01',
    'openai-processing-ms': 1,
    ...rateLimitHeaders(exchange, deployment),
  };
}

const LIMIT_NAMES = { rpm: 'requests per min (RPM)', tpm: 'tokens per min (TPM)', concurrency: 'concurrent requests' } as const;

function writeRefusal(exchange: Exchange, deployment: Deployment, refusal: AnsweredRefusal): void {
  const headers = commonHeaders(exchange, deployment, `req_sim_${Date.now().toString(36)}`);
  const model = deployment.vendorModelId;
  switch (refusal.kind) {
    case 'rate_limited': {
      const state = exchange.sim.quotaState(deployment);
      const limit = refusal.limit === 'tpm' ? state.tokensLimit : state.requestsLimit;
      return openaiError(exchange.res, 429, {
        message: `Rate limit reached for ${model} in organization ${ORGANIZATION} on ${LIMIT_NAMES[refusal.limit]}: Limit ${limit}. Please try again in ${goDuration(refusal.retryAfterMs)}.`,
        // OpenAI's `type` says which limit ran out; `code` says it is a rate limit at all.
        type: refusal.limit === 'tpm' ? 'tokens' : 'requests',
        code: 'rate_limit_exceeded',
      }, { ...headers, 'retry-after': retryAfterSeconds(refusal.retryAfterMs) });
    }
    case 'throttled':
      return openaiError(exchange.res, 429, {
        message: `Rate limit reached for ${model} in organization ${ORGANIZATION} on requests per min (RPM). Please try again in ${goDuration(refusal.retryAfterMs)}.`,
        type: 'requests',
        code: 'rate_limit_exceeded',
      }, { ...headers, 'retry-after': retryAfterSeconds(refusal.retryAfterMs) });
    case 'overloaded':
      return openaiError(exchange.res, 503, OVERLOADED, headers);
    case 'unavailable':
      return openaiError(exchange.res, refusal.status, SERVER_ERROR, headers);
  }
}

const openaiDialect: ChatDialect = {
  headers: (exchange, deployment, callId) => commonHeaders(exchange, deployment, `req_${callId}`),
  writeRefusal,
  streamError(kind) {
    switch (kind) {
      case 'overloaded':
        return { ...OVERLOADED, param: null, code: null };
      case 'server_error':
        return { ...SERVER_ERROR, param: null, code: null };
      case 'rate_limited':
        return { message: 'Rate limit reached on tokens per min (TPM). Please try again later.', type: 'tokens', param: null, code: 'rate_limit_exceeded' };
    }
  },
  preamble: () => [],
  decorate: (response) => ({ ...response, service_tier: 'default' }),
};
