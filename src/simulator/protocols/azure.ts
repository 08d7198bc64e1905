/**
 * The simulated Azure OpenAI API, classic per-deployment surface:
 * `POST /openai/deployments/{deployment}/chat/completions?api-version=…` with an `api-key` header.
 * Bodies and streams are OpenAI's plus content-safety annotations; errors carry Azure's codes
 * ("429", "401", `DeploymentNotFound`) and 429s say `retry-after-ms` as well.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Deployment } from '../../config/index.js';
import { OpenAIRequestSchema } from '../../vendors/openai/wire.js';
import { deploymentByVendorModelId, retryAfterSeconds, sendJson, type Exchange, type ProtocolHandler } from '../protocol.js';
import { SERVER_ERROR, openaiError, readChatRequest, serveChat, type AnsweredRefusal, type ChatDialect } from './openai-wire.js';

const CHAT_PATH = /^\/openai\/deployments\/([^/]+)\/chat\/completions$/;
/** GA (`2024-10-21`) and preview (`2025-04-01-preview`) versions; anything else Azure does not know. */
const API_VERSION = /^\d{4}-\d{2}-\d{2}(-preview)?$/;

/** Azure's own errors are `{code, message}` only, with the code often the status as a string. */
function azureError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string | number> = {}): void {
  sendJson(res, status, { error: { code, message } }, headers);
}

export const azureProtocol: ProtocolHandler = async (exchange) => {
  const { req, res, url, credentials, vendorRegion } = exchange;
  const route = CHAT_PATH.exec(url.pathname);
  const apiVersion = url.searchParams.get('api-version');
  // Without an api-version the route does not exist at all, as on Azure.
  if (req.method !== 'POST' || !route?.[1] || !apiVersion) return azureError(res, 404, '404', 'Resource not found');
  if (!API_VERSION.test(apiVersion)) return azureError(res, 400, 'BadRequest', 'API version not supported');
  if (req.headers['api-key'] !== credentials.apiKey) {
    return azureError(
      res,
      401,
      '401',
      'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
    );
  }
  const name = decodeURIComponent(route[1]);
  const deployment = deploymentByVendorModelId(vendorRegion, name);
  if (!deployment) {
    return azureError(
      res,
      404,
      'DeploymentNotFound',
      'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.',
    );
  }
  // The deployment in the URL decides the model; Azure ignores `model` in the body or lets it be left out.
  const body = readChatRequest(exchange, OpenAIRequestSchema, (json) => (isObject(json) ? { ...json, model: name } : json));
  if (!body) return;
  await serveChat(exchange, deployment, body, dialectFor(apiVersion));
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function headersFor(exchange: Exchange, deployment: Deployment): Record<string, string | number> {
  const state = exchange.sim.quotaState(deployment);
  const id = randomUUID();
  return {
    'x-request-id': id,
    'apim-request-id': id,
    'x-ms-region': exchange.vendorRegion.region,
    'x-ratelimit-limit-requests': state.requestsLimit,
    'x-ratelimit-limit-tokens': state.tokensLimit,
    'x-ratelimit-remaining-requests': state.requestsRemaining,
    'x-ratelimit-remaining-tokens': state.tokensRemaining,
  };
}

const SAFE = { filtered: false, severity: 'safe' } as const;
const CONTENT_FILTER_RESULTS = { hate: SAFE, self_harm: SAFE, sexual: SAFE, violence: SAFE };
const PROMPT_FILTER_RESULTS = [{ prompt_index: 0, content_filter_results: { ...CONTENT_FILTER_RESULTS, jailbreak: { filtered: false, detected: false } } }];

function rateLimitMessage(apiVersion: string, kind: 'token' | 'call', retryAfterMs: number): string {
  return (
    `Requests to the ChatCompletions_Create Operation under Azure OpenAI API version ${apiVersion} have exceeded ${kind} rate limit ` +
    `of your current OpenAI S0 pricing tier. Please retry after ${retryAfterSeconds(retryAfterMs)} seconds.`
  );
}

function dialectFor(apiVersion: string): ChatDialect {
  const writeRefusal = (exchange: Exchange, deployment: Deployment, refusal: AnsweredRefusal): void => {
    const headers = headersFor(exchange, deployment);
    switch (refusal.kind) {
      case 'rate_limited':
      case 'throttled': {
        const kind = refusal.kind === 'rate_limited' && refusal.limit === 'tpm' ? 'token' : 'call';
        return azureError(exchange.res, 429, '429', rateLimitMessage(apiVersion, kind, refusal.retryAfterMs), {
          ...headers,
          'retry-after': retryAfterSeconds(refusal.retryAfterMs),
          'retry-after-ms': Math.round(refusal.retryAfterMs),
        });
      }
      case 'overloaded':
        return azureError(exchange.res, 503, 'ServiceUnavailable', 'The service is temporarily unable to process your request. Please try again later.', headers);
      case 'unavailable':
        return openaiError(exchange.res, refusal.status, SERVER_ERROR, headers);
    }
  };
  return {
    headers: (exchange, deployment) => headersFor(exchange, deployment),
    writeRefusal,
    streamError(kind) {
      switch (kind) {
        case 'rate_limited':
          return { code: '429', message: rateLimitMessage(apiVersion, 'token', 1000) };
        case 'overloaded':
          return { code: 'ServiceUnavailable', message: 'The service is temporarily unable to process your request. Please try again later.' };
        case 'server_error':
          return { ...SERVER_ERROR, param: null, code: null };
      }
    },
    // Azure's first chunk carries only the prompt's filter results: no id, no model, no choices.
    preamble: () => [JSON.stringify({ choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: PROMPT_FILTER_RESULTS })],
    decorate: (response) => ({
      ...response,
      choices: response.choices.map((choice) => ({ ...choice, content_filter_results: CONTENT_FILTER_RESULTS })),
      prompt_filter_results: PROMPT_FILTER_RESULTS,
    }),
  };
}
