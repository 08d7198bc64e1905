/**
 * The Bedrock Runtime adapter for Anthropic models: InvokeModel and
 * InvokeModelWithResponseStream, SigV4-signed. Bodies are Anthropic Messages bodies with the model
 * in the URL; the stream is binary event-stream frames, each chunk one Anthropic stream event.
 */
import { z } from 'zod';
import type { CanonicalRequest, StreamEvent } from '../../domain/index.js';
import { malformedResponse, type FailureSource, type HttpFailure } from '../classify.js';
import { header, retryAfterMs, type Headers } from '../headers.js';
import { sendVendorRequest } from '../http.js';
import { expectContentType, failureOf, readJsonBody, jsonOrUndefined } from '../response.js';
import { createVendorStream } from '../stream.js';
import { KeptSecret, readCredential, readOptionalCredential } from '../credentials.js';
import type { AdapterDeps, AdapterFactory, CallOptions } from '../types.js';
import { AnthropicStreamDecoder, MalformedStreamError } from '../anthropic/stream.js';
import { fromAnthropicResponse, toAnthropicRequest } from '../anthropic/translate.js';
import { AnthropicResponseSchema, AnthropicUsageSchema, type AnthropicRequest } from '../anthropic/wire.js';
import { bedrockMessages, MalformedFrameError } from './event-stream.js';
import { signBedrockRequest, type AwsCredentials } from './sigv4.js';
import type { VendorRegion } from '../../config/index.js';

/** The Messages API version Bedrock takes in the body instead of a header. */
export const BEDROCK_ANTHROPIC_VERSION = 'bedrock-2023-05-31';

export const EVENT_STREAM_CONTENT_TYPE = 'application/vnd.amazon.eventstream';

export type BedrockRequestBody = Omit<AnthropicRequest, 'model' | 'stream'> & { anthropic_version: string };

/** The Anthropic body without `model` (it is in the path) and `stream` (the path says that too). */
export function toBedrockBody(request: CanonicalRequest, vendorModelId: string): BedrockRequestBody {
  const { model: _model, stream: _stream, ...rest } = toAnthropicRequest(request, vendorModelId);
  return { anthropic_version: BEDROCK_ANTHROPIC_VERSION, ...rest };
}

/** Usage may be missing from a plain answer; the x-amzn-bedrock-*-token-count headers always carry it. */
const BedrockResponseSchema = AnthropicResponseSchema.extend({ usage: AnthropicUsageSchema.optional() });

/** Added to the message_stop chunk; the authoritative token counts of a stream. */
const InvocationMetricsSchema = z.object({
  inputTokenCount: z.number().int().nonnegative(),
  outputTokenCount: z.number().int().nonnegative(),
});

export const createBedrockAdapter: AdapterFactory = (vendorRegion, deps) => {
  const source: FailureSource = { vendor: vendorRegion.vendor, vendorRegion: vendorRegion.id };
  const now = deps.now ?? (() => performance.now());
  const baseUrl = vendorRegion.baseUrl.replace(/\/$/, '');
  // The key id, the secret and the session token are kept as one: a call never signs with a mix of old and new.
  const kept = new KeptSecret(() => awsCredentials(vendorRegion, deps));

  async function send(request: CanonicalRequest, options: CallOptions, stream: boolean) {
    const credentials = await kept.get();
    const url = `${baseUrl}/model/${encodeURIComponent(options.deployment.vendorModelId)}/${stream ? 'invoke-with-response-stream' : 'invoke'}`;
    const body = JSON.stringify(toBedrockBody(request, options.deployment.vendorModelId));
    const headers = await signBedrockRequest(
      {
        method: 'POST',
        url,
        headers: stream
          ? { 'content-type': 'application/json', accept: EVENT_STREAM_CONTENT_TYPE, 'x-amzn-bedrock-accept': 'application/json' }
          : { 'content-type': 'application/json', accept: 'application/json' },
        body,
      },
      { region: vendorRegion.region, credentials },
    );
    const response = await sendVendorRequest(source, deps.dispatcher, options, { url, headers, body }, now);
    if (response.statusCode !== 200) throw await failureOf(response, (status, h, text) => bedrockFailure(source, status, h, text));
    return response;
  }

  return {
    vendorRegion,
    async complete(request, options) {
      const response = await send(request, options, false);
      const body = await readJsonBody(source, response, BedrockResponseSchema);
      const usage = body.usage ?? usageFromHeaders(response.headers);
      if (!usage) throw malformedResponse(source, 'no usage in the body and no x-amzn-bedrock-*-token-count headers', JSON.stringify(body));
      const result = fromAnthropicResponse({ ...body, usage });
      response.timer.addUsage(result.usage);
      response.timer.end();
      return { response: result, metrics: response.timer.snapshot() };
    },
    async stream(request, options) {
      const response = await send(request, options, true);
      expectContentType(source, response, EVENT_STREAM_CONTENT_TYPE);
      return createVendorStream(source, response, { batches: decodeBedrockStream(source, response.chunks()), terminal: 'message_stop' });
    },
  };
};

/** An empty session token (as the example fleet's environment gives) means static keys. */
async function awsCredentials(vendorRegion: VendorRegion, deps: AdapterDeps): Promise<AwsCredentials> {
  const [id, secret, token] = await Promise.all([
    readCredential(vendorRegion, deps.secrets, 'accessKeyId'),
    readCredential(vendorRegion, deps.secrets, 'secretAccessKey'),
    readOptionalCredential(vendorRegion, deps.secrets, 'sessionToken'),
  ]);
  return { accessKeyId: id, secretAccessKey: secret, ...(token !== '' && { sessionToken: token }) };
}

function usageFromHeaders(headers: Headers): { input_tokens: number; output_tokens: number } | undefined {
  const count = (name: string) => {
    const value = Number(header(headers, `x-amzn-bedrock-${name}-token-count`));
    return Number.isInteger(value) && value >= 0 ? value : undefined;
  };
  const input = count('input');
  const output = count('output');
  return input === undefined || output === undefined ? undefined : { input_tokens: input, output_tokens: output };
}

/**
 * The error name from `x-amzn-ErrorType` (`ThrottlingException:http://internal.amazon.com/...`,
 * the part before the colon), else the body's `__type`; the message from `message` or `Message`.
 */
export function bedrockFailure(source: FailureSource, status: number, headers: Headers, text: string): HttpFailure {
  const json = jsonOrUndefined(text);
  const field = (name: string): string | undefined => {
    const value: unknown = typeof json === 'object' && json !== null ? (json as Record<string, unknown>)[name] : undefined;
    return typeof value === 'string' ? value : undefined;
  };
  const fromHeader = header(headers, 'x-amzn-errortype')?.split(':')[0]?.trim();
  const fromBody = field('__type')?.split('#').pop()?.split(':')[0];
  return {
    ...source,
    status,
    vendorCode: fromHeader || fromBody || undefined,
    message: field('message') ?? field('Message'),
    retryAfterMs: retryAfterMs(headers),
    excerpt: text.slice(0, 200),
  };
}

/**
 * Bedrock frames → canonical events. Exception and error frames become `error` events carrying the
 * exception name as the code, so the error policy classifies them like any in-stream error; an
 * Anthropic `{"type":"error"}` chunk does the same through the Anthropic decoder.
 */
export async function* decodeBedrockStream(source: FailureSource, body: AsyncIterable<Uint8Array>): AsyncGenerator<StreamEvent[]> {
  const decoder = new AnthropicStreamDecoder();
  try {
    for await (const message of bedrockMessages(body)) {
      switch (message.kind) {
        case 'chunk':
          yield chunkEvents(decoder, message.json);
          break;
        case 'exception':
          yield [{ type: 'error', error: { code: message.type, message: message.message } }];
          break;
        case 'error':
          yield [{ type: 'error', error: { code: message.code, message: message.message } }];
          break;
        case 'other':
          break;
      }
    }
  } catch (error) {
    if (error instanceof MalformedFrameError || error instanceof MalformedStreamError) throw malformedResponse(source, error.message, error.excerpt, error);
    throw error;
  }
}

function chunkEvents(decoder: AnthropicStreamDecoder, json: string): StreamEvent[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    // The decoder reports it as malformed, with the excerpt.
    return decoder.push({ data: json });
  }
  const fields = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  const type = typeof fields.type === 'string' ? fields.type : undefined;
  const events = decoder.push({ ...(type !== undefined && { event: type }), data: json });
  const metrics = InvocationMetricsSchema.safeParse(fields['amazon-bedrock-invocationMetrics']);
  if (type !== 'message_stop' || !metrics.success) return events;
  const usage: StreamEvent = { type: 'usage', usage: { inputTokens: metrics.data.inputTokenCount, outputTokens: metrics.data.outputTokenCount } };
  // Before `end`: nothing after it is read.
  return events.flatMap((event): StreamEvent[] => (event.type === 'end' ? [usage, event] : [event]));
}
