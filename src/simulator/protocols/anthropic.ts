/**
 * The simulated Anthropic Messages API: `POST /v1/messages` with `x-api-key` and
 * `anthropic-version`, answering in Anthropic's shapes, plain or as server-sent events; and
 * `GET /v1/models`, the models the vendor-region serves.
 */
import { fromAnthropicRequest, toAnthropicResponse } from '../../vendors/anthropic/translate.js';
import { AnthropicRequestSchema } from '../../vendors/anthropic/wire.js';
import { answerRefusal, deploymentByVendorModelId, parseJson, playStream, sendJson, track, type ProtocolHandler } from '../protocol.js';
import { anthropicError, anthropicStreamWriter, rateLimitHeaders, writeAnthropicRefusal } from './anthropic-wire.js';

export const anthropicProtocol: ProtocolHandler = async (exchange) => {
  const { req, res, url, credentials, vendorRegion, sim } = exchange;
  const listing = req.method === 'GET' && url.pathname === '/v1/models';
  if (!listing && (req.method !== 'POST' || url.pathname !== '/v1/messages')) {
    return anthropicError(res, 404, 'not_found_error', `Not found: ${req.method ?? ''} ${url.pathname}`);
  }
  // Anthropic takes the key as x-api-key or, as newer SDKs send it, as a bearer token.
  const key = req.headers['x-api-key'] ?? req.headers.authorization?.replace(/^Bearer\s+/i, '');
  if (key !== credentials.apiKey) {
    return anthropicError(res, 401, 'authentication_error', 'invalid x-api-key');
  }
  if (!req.headers['anthropic-version']) {
    return anthropicError(res, 400, 'invalid_request_error', 'anthropic-version: header is required');
  }
  if (listing) {
    // The models this key may use, one page, as Anthropic lists them.
    const data = Object.values(vendorRegion.deployments).map((d) => ({ type: 'model', id: d.vendorModelId, display_name: d.model, created_at: '2025-05-14T00:00:00Z' }));
    return sendJson(res, 200, { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null });
  }
  const json = parseJson(exchange.body);
  if (!json.ok) return anthropicError(res, 400, 'invalid_request_error', `There was an error parsing the body: ${json.error}`);
  const parsed = AnthropicRequestSchema.safeParse(json.value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return anthropicError(res, 400, 'invalid_request_error', `${issue?.path.join('.') ?? 'body'}: ${issue?.message ?? 'invalid'}`);
  }
  const body = parsed.data;
  const deployment = deploymentByVendorModelId(vendorRegion, body.model);
  if (!deployment) return anthropicError(res, 404, 'not_found_error', `model: ${body.model}`);

  const call = sim.begin(vendorRegion, deployment, fromAnthropicRequest(body));
  track(exchange, call);
  if (call.refusal) return answerRefusal(exchange, call.refusal, (r) => writeAnthropicRefusal(exchange, deployment, r));
  const headers = { 'request-id': `req_${call.id}`, ...rateLimitHeaders(exchange, deployment) };

  if (!body.stream) {
    const result = await call.complete(exchange.clientGone);
    if ('broken' in result) {
      if (result.broken === 'cut') return void res.destroy();
      res.writeHead(200, { 'content-type': 'application/json', ...headers });
      return void res.end('{"id":"msg_sim","type":"message","content":[{"type":"te');
    }
    return sendJson(res, 200, toAnthropicResponse(result.response), headers);
  }
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...headers });
  await playStream(exchange, call, anthropicStreamWriter(res));
};
