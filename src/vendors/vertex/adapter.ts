/**
 * Anthropic models on Google Vertex AI: the Anthropic Messages body without
 * `model`, posted to the publisher model's `:rawPredict` or `:streamRawPredict` with a Google access
 * token. Answers and streams are Anthropic's; errors come from two layers, Google's front end
 * (google.rpc, sometimes in an array) and the model behind it (Anthropic's envelope).
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { CredentialsMissingError, type CanonicalRequest } from '../../domain/index.js';
import type { VendorRegion } from '../../config/index.js';
import { anthropicCalls } from '../anthropic/adapter.js';
import { anthropicFailure } from '../anthropic/errors.js';
import { toAnthropicRequest } from '../anthropic/translate.js';
import type { FailureSource, HttpFailure } from '../classify.js';
import { retryAfterMs, type Headers } from '../headers.js';
import { sendVendorRequest, type VendorHttpResponse } from '../http.js';
import { failureOf, jsonOrUndefined } from '../response.js';
import { readCredential } from '../credentials.js';
import type { AdapterDeps, AdapterFactory, CallOptions, VendorAdapter } from '../types.js';
import { serviceAccountTokens, type AccessTokenSource } from './token.js';

/** Vertex takes the API version in the body, and only this value. */
export const VERTEX_ANTHROPIC_VERSION = 'vertex-2023-10-16';

export const createVertexAdapter: AdapterFactory = (vendorRegion, deps) => {
  const tokens = serviceAccountTokens({
    source: { vendor: vendorRegion.vendor, vendorRegion: vendorRegion.id },
    dispatcher: deps.dispatcher,
    tokenUrl: vendorRegion.tokenUrl,
    readKey: async () => {
      const value = await readCredential(vendorRegion, deps.secrets, 'serviceAccount');
      // Google's convention: GOOGLE_APPLICATION_CREDENTIALS holds the key file's path, not the key.
      if (value.trimStart().startsWith('{')) return value;
      return readFile(value.trim(), 'utf8').catch((error: unknown) => {
        throw new CredentialsMissingError(vendorRegion.id, `the service-account key file named by the serviceAccount credential cannot be read: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      });
    },
  });
  return vertexAdapter(vendorRegion, deps, tokens);
};

/** The adapter over any token source: the factory's is a service account; tests bring their own. */
export function vertexAdapter(vendorRegion: VendorRegion, deps: AdapterDeps, tokens: AccessTokenSource): VendorAdapter {
  const source: FailureSource = { vendor: vendorRegion.vendor, vendorRegion: vendorRegion.id };
  const now = deps.now ?? (() => performance.now());
  const readFailure = (status: number, headers: Headers, text: string) => vertexFailure(source, status, headers, text);

  async function send(request: CanonicalRequest, options: CallOptions, stream: boolean): Promise<VendorHttpResponse> {
    const url = predictUrl(vendorRegion, options.deployment.vendorModelId, stream);
    const body = JSON.stringify(vertexBody(request, options.deployment.vendorModelId, stream));
    const post = async (token: string) =>
      sendVendorRequest(source, deps.dispatcher, options, {
        url,
        headers: {
          'content-type': 'application/json',
          accept: stream ? 'text/event-stream' : 'application/json',
          authorization: `Bearer ${token}`,
        },
        body,
      }, now);

    const token = await tokens.token(options.signal);
    let response = await post(token);
    if (response.statusCode === 401) {
      // A token can be revoked or die early (clock skew): one fresh token settles whether the key itself is refused.
      await failureOf(response, readFailure);
      tokens.refused(token);
      response = await post(await tokens.token(options.signal));
    }
    if (response.statusCode !== 200) throw await failureOf(response, readFailure);
    return response;
  }

  return { vendorRegion, ...anthropicCalls(source, send) };
}

export function predictUrl(vendorRegion: VendorRegion, vendorModelId: string, stream: boolean): string {
  if (!vendorRegion.projectId) throw new CredentialsMissingError(vendorRegion.id, 'no projectId in the config (Vertex AI needs the Google Cloud project)');
  const base = vendorRegion.baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
  const segments = [
    'v1/projects',
    pathSegment(vendorRegion.projectId),
    'locations',
    // The global endpoint is a location of its own, not a region's default.
    pathSegment(vendorRegion.region),
    'publishers/anthropic/models',
    `${pathSegment(vendorModelId)}:${stream ? 'streamRawPredict' : 'rawPredict'}`,
  ];
  return `${base}/${segments.join('/')}`;
}

/** Percent-encodes a segment, but keeps the `@` of versioned model ids (`claude-sonnet-4@20250514`) as Google writes it. */
function pathSegment(value: string): string {
  return encodeURIComponent(value).replace(/%40/g, '@');
}

/** The Anthropic body minus `model` (the URL names it); `stream: true` stays, as the official SDK sends it. */
export function vertexBody(request: CanonicalRequest, vendorModelId: string, stream: boolean): Record<string, unknown> {
  const { model: _model, ...body } = toAnthropicRequest(request, vendorModelId, stream ? { stream: true } : undefined);
  return { anthropic_version: VERTEX_ANTHROPIC_VERSION, ...body };
}

// ------------------------------------------------------------------------------------------ errors

const GoogleRpcErrorSchema = z.object({
  error: z.object({
    code: z.number().optional(),
    message: z.string().optional(),
    /** Anthropic's envelope has no `status`: its presence tells the two layers apart. */
    status: z.string(),
    details: z.array(z.looseObject({ '@type': z.string().optional(), retryDelay: z.string().optional() })).optional(),
  }),
});

/**
 * A quota of zero (the model was never granted to the project) answers 429 like a burst, but
 * waiting never helps; Google says so only in the message.
 */
const ZERO_QUOTA = /\b(?:limit|quota)(?: value)?(?::|\s+of|\s+is)\s*0(?![\d.])/i;

/** The HttpFailure of a Vertex error body, in whichever of its two shapes it came. */
export function vertexFailure(source: FailureSource, status: number, headers: Headers, text: string): HttpFailure {
  const json = jsonOrUndefined(text);
  const google = GoogleRpcErrorSchema.safeParse(Array.isArray(json) ? json[0] : json);
  if (!google.success) return anthropicFailure(source, status, headers, text);
  const { message, status: rpcStatus, details } = google.data.error;
  const zeroQuota = rpcStatus === 'RESOURCE_EXHAUSTED' && message !== undefined && ZERO_QUOTA.test(message);
  return {
    ...source,
    status,
    // `quota_exceeded` is the policy's word for "used up until someone raises it": fail over, do not wait.
    vendorCode: zeroQuota ? 'quota_exceeded' : rpcStatus,
    message,
    retryAfterMs: retryAfterMs(headers) ?? retryDelayMs(details),
    excerpt: text.slice(0, 200),
  };
}

/** google.rpc.RetryInfo's `retryDelay`, a protobuf Duration in JSON: `"37s"`, `"0.5s"`. */
function retryDelayMs(details: readonly { '@type'?: string | undefined; retryDelay?: string | undefined }[] | undefined): number | undefined {
  const delay = details?.find((d) => d['@type']?.endsWith('google.rpc.RetryInfo'))?.retryDelay;
  const seconds = delay === undefined ? undefined : /^(\d+(?:\.\d+)?)s$/.exec(delay)?.[1];
  return seconds === undefined ? undefined : Number(seconds) * 1000;
}
