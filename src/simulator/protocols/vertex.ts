/**
 * The simulated Vertex AI front end for Anthropic models: an OAuth token
 * endpoint that honours JWT-bearer grants signed with the simulator's service account, and the
 * publisher model's `:rawPredict` / `:streamRawPredict`. Google's layer answers in google.rpc
 * errors (429s wrapped in an array, as Vertex sends them); the model behind it answers, and fails,
 * in Anthropic's shapes.
 */
import { createVerify } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Deployment } from '../../config/index.js';
import { fromAnthropicRequest, toAnthropicResponse } from '../../vendors/anthropic/translate.js';
import { AnthropicRequestSchema } from '../../vendors/anthropic/wire.js';
import type { Refusal } from '../engine.js';
import { answerRefusal, deploymentByVendorModelId, parseJson, playStream, sendJson, track, type Exchange, type ProtocolHandler, type StreamWriter } from '../protocol.js';
import { anthropicError, anthropicStreamWriter } from './anthropic-wire.js';

const VERTEX_ANTHROPIC_VERSION = 'vertex-2023-10-16';
const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
/** Google issues tokens for an hour less a second. */
const TOKEN_LIFETIME_S = 3599;
/** Google refuses assertions meant to live longer than an hour. */
const MAX_ASSERTION_LIFETIME_S = 3600;
/** How far ahead of the server's clock an assertion's `iat` may be. */
const CLOCK_SKEW_S = 60;

const PREDICT = /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/anthropic\/models\/([^/:]+):(rawPredict|streamRawPredict)$/;

const UNAUTHENTICATED =
  'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. ' +
  'See https://developers.google.com/identity/sign-in/web/devconsole-project.';

export const vertexProtocol: ProtocolHandler = async (exchange) => {
  const { req, res, url } = exchange;
  if (req.method === 'POST' && url.pathname === '/token') return grantToken(exchange);
  const route = req.method === 'POST' ? PREDICT.exec(url.pathname) : null;
  if (!route) {
    // Google's front end answers unknown URLs with an HTML page, not JSON.
    res.writeHead(404, { 'content-type': 'text/html; charset=UTF-8' }).end(`<!DOCTYPE html><title>Error 404 (Not Found)!!1</title><p>The requested URL <code>${url.pathname}</code> was not found on this server.`);
    return;
  }
  await predict(exchange, { project: route[1] ?? '', location: route[2] ?? '', model: route[3] ?? '' });
};

// ------------------------------------------------------------------------------------ token grant

function grantToken(exchange: Exchange): void {
  const form = new URLSearchParams(exchange.body.toString('utf8'));
  const grantType = form.get('grant_type');
  if (grantType !== JWT_BEARER_GRANT) return oauthError(exchange.res, 400, 'unsupported_grant_type', `Invalid grant_type: ${grantType ?? ''}`);
  const problem = assertionProblem(exchange, form.get('assertion') ?? '');
  if (problem) return oauthError(exchange.res, 400, problem.error, problem.description);
  sendJson(exchange.res, 200, { access_token: exchange.tokens.issue(TOKEN_LIFETIME_S * 1000), expires_in: TOKEN_LIFETIME_S, token_type: 'Bearer' });
}

/** What Google would object to in the assertion, in its own words; undefined when it is good. */
function assertionProblem(exchange: Exchange, assertion: string): { error: string; description: string } | undefined {
  const { serviceAccount, serviceAccountPublicKey } = exchange.credentials;
  const badSignature = { error: 'invalid_grant', description: 'Invalid JWT Signature.' };
  const parts = assertion.split('.');
  const [encodedHeader, encodedClaims, signature] = parts;
  if (parts.length !== 3 || encodedHeader === undefined || encodedClaims === undefined || signature === undefined) {
    return { error: 'invalid_grant', description: 'Invalid JWT: the assertion is not a signed JWT.' };
  }
  const header = decodeSegment(encodedHeader);
  if (header?.['alg'] !== 'RS256') return badSignature;
  // gtoken sends no kid; when one is sent it must name this key.
  if (header['kid'] !== undefined && header['kid'] !== serviceAccount.private_key_id) return badSignature;
  const verifier = createVerify('RSA-SHA256').update(`${encodedHeader}.${encodedClaims}`);
  if (!verifier.verify(serviceAccountPublicKey, Buffer.from(signature, 'base64url'))) return badSignature;

  const claims = decodeSegment(encodedClaims) ?? {};
  if (claims['iss'] !== serviceAccount.client_email) return { error: 'invalid_grant', description: 'Invalid grant: account not found' };
  if (!acceptedAudiences(exchange).includes(String(claims['aud']))) {
    return { error: 'invalid_grant', description: `Invalid JWT: Failed audience check. The expected value was ${acceptedAudiences(exchange)[0] ?? ''}` };
  }
  const now = Math.floor(Date.now() / 1000);
  const { iat, exp } = claims;
  if (typeof iat !== 'number' || typeof exp !== 'number' || exp <= now || iat > now + CLOCK_SKEW_S || exp - iat > MAX_ASSERTION_LIFETIME_S) {
    return {
      error: 'invalid_grant',
      description: 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.',
    };
  }
  const scopes = typeof claims['scope'] === 'string' ? claims['scope'].split(' ') : [];
  if (!scopes.includes(CLOUD_PLATFORM_SCOPE)) return { error: 'invalid_scope', description: 'Invalid OAuth scope or ID token audience provided.' };
  return undefined;
}

/** This endpoint's URL as the simulator knows it, and as the client reached it (localhost, another interface). */
function acceptedAudiences(exchange: Exchange): string[] {
  const path = exchange.url.pathname;
  const asReached = exchange.req.headers.host ? [`http://${exchange.req.headers.host}${path}`] : [];
  return [`${exchange.url.origin}${path}`, ...asReached];
}

function decodeSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function oauthError(res: ServerResponse, status: number, error: string, description: string): void {
  sendJson(res, status, { error, error_description: description }, { 'cache-control': 'no-store' });
}

// ---------------------------------------------------------------------------------------- predict

interface PredictTarget {
  project: string;
  location: string;
  model: string;
}

async function predict(exchange: Exchange, raw: PredictTarget): Promise<void> {
  const { req, res, vendorRegion, sim } = exchange;
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (bearer === undefined || !exchange.tokens.isValid(bearer)) {
    return googleError(res, 401, 'UNAUTHENTICATED', UNAUTHENTICATED, { 'www-authenticate': 'Bearer realm="https://accounts.google.com/"' });
  }
  const target = decodeTarget(raw);
  if (!target) return googleError(res, 400, 'INVALID_ARGUMENT', 'Invalid resource name.');
  const resource = `projects/${target.project}/locations/${target.location}/publishers/anthropic/models/${target.model}`;
  if (target.project !== vendorRegion.projectId) {
    return googleError(res, 403, 'PERMISSION_DENIED', `Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/${resource}' (or it may not exist).`);
  }
  if (target.location !== vendorRegion.region) {
    return googleError(res, 400, 'INVALID_ARGUMENT', `Location ${target.location} is not served by this endpoint; it serves ${vendorRegion.region}.`);
  }
  const deployment = deploymentByVendorModelId(vendorRegion, target.model);
  if (!deployment) return googleError(res, 404, 'NOT_FOUND', `Publisher Model \`${resource}\` not found.`);

  const json = parseJson(exchange.body);
  if (!json.ok) return anthropicError(res, 400, 'invalid_request_error', `There was an error parsing the body: ${json.error}`);
  if (typeof json.value !== 'object' || json.value === null || Array.isArray(json.value)) {
    return anthropicError(res, 400, 'invalid_request_error', 'The request body must be a JSON object.');
  }
  const { anthropic_version: version, ...fields } = json.value as Record<string, unknown>;
  // Current Anthropic SDKs send their dated API version here; Vertex's own value is the classic one.
  if (version !== VERTEX_ANTHROPIC_VERSION && !(typeof version === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(version))) {
    const why = version === undefined ? 'Field required' : `Input should be '${VERTEX_ANTHROPIC_VERSION}' or a dated API version`;
    return anthropicError(res, 400, 'invalid_request_error', `anthropic_version: ${why}`);
  }
  // The URL names the model; Vertex refuses a second say in the body.
  if ('model' in fields) return anthropicError(res, 400, 'invalid_request_error', 'model: Extra inputs are not permitted');
  const parsed = AnthropicRequestSchema.safeParse({ ...fields, model: deployment.vendorModelId });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return anthropicError(res, 400, 'invalid_request_error', `${issue?.path.join('.') ?? 'body'}: ${issue?.message ?? 'invalid'}`);
  }
  const body = parsed.data;

  const call = sim.begin(vendorRegion, deployment, fromAnthropicRequest(body));
  track(exchange, call);
  if (call.refusal) return answerRefusal(exchange, call.refusal, (r) => writeVertexRefusal(res, deployment, r));
  const messageId = `msg_vrtx_${call.id}`;

  // rawPredict passes the body through to the model, so the body's `stream`, not the method, decides the answer's form.
  if (body.stream !== true) {
    const result = await call.complete(exchange.clientGone);
    if ('broken' in result) {
      if (result.broken === 'cut') return void res.destroy();
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end('{"id":"msg_vrtx_sim","type":"message","content":[{"type":"te');
    }
    return sendJson(res, 200, toAnthropicResponse({ ...result.response, id: messageId }));
  }
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  await playStream(exchange, call, withMessageId(anthropicStreamWriter(res), messageId));
}

function decodeTarget(raw: PredictTarget): PredictTarget | undefined {
  try {
    return { project: decodeURIComponent(raw.project), location: decodeURIComponent(raw.location), model: decodeURIComponent(raw.model) };
  } catch {
    return undefined;
  }
}

/** Vertex message ids carry its own prefix. */
function withMessageId(writer: StreamWriter, id: string): StreamWriter {
  return { ...writer, event: (event) => writer.event(event.type === 'start' ? { ...event, id } : event) };
}

// ----------------------------------------------------------------------------------------- errors

function googleRpcError(code: number, status: string, message: string, details?: unknown[]) {
  return { error: { code, message, status, ...(details && { details }) } };
}

function googleError(res: ServerResponse, code: number, status: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, code, googleRpcError(code, status, message), { 'content-type': 'application/json; charset=UTF-8', ...headers });
}

/** Vertex names per-base-model quotas after the model without its version. */
function baseModel(deployment: Deployment): string {
  return `anthropic-${deployment.vendorModelId.replace(/@.*$/, '')}`;
}

const QUOTA_METRIC = {
  rpm: 'online_prediction_requests_per_base_model',
  tpm: 'online_prediction_input_tokens_per_minute_per_base_model',
  concurrency: 'online_prediction_concurrent_requests_per_base_model',
} as const;

function writeVertexRefusal(res: ServerResponse, deployment: Deployment, refusal: Exclude<Refusal, { kind: 'hang' }>): void {
  switch (refusal.kind) {
    case 'rate_limited':
    case 'throttled': {
      const message =
        refusal.kind === 'rate_limited'
          ? `Quota exceeded for aiplatform.googleapis.com/${QUOTA_METRIC[refusal.limit]} with base model: ${baseModel(deployment)}. Please submit a quota increase request. https://cloud.google.com/vertex-ai/docs/generative-ai/quotas-genai.`
          : 'Resource exhausted, please try again later. Please refer to https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.';
      const retryInfo = { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${Math.max(1, Math.ceil(refusal.retryAfterMs / 1000))}s` };
      return sendJson(res, 429, [googleRpcError(429, 'RESOURCE_EXHAUSTED', message, [retryInfo])], { 'content-type': 'application/json; charset=UTF-8' });
    }
    case 'overloaded':
      return anthropicError(res, 529, 'overloaded_error', 'Overloaded');
    case 'unavailable':
      return refusal.status === 503
        ? googleError(res, 503, 'UNAVAILABLE', 'The service is currently unavailable.')
        : googleError(res, 500, 'INTERNAL', 'Internal error encountered.');
  }
}
