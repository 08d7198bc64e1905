/**
 * The Anthropic Messages adapter: `POST {baseUrl}/v1/messages` with an API key, plain or streamed
 * as server-sent events.
 */
import type { CanonicalRequest, StreamEvent } from '../../domain/index.js';
import { malformedResponse, type FailureSource } from '../classify.js';
import { sendVendorRequest, type VendorHttpResponse } from '../http.js';
import { failureOf, readJsonBody, sseBody } from '../response.js';
import { createVendorStream } from '../stream.js';
import { VendorCredentials } from '../credentials.js';
import type { AdapterFactory, CallOptions, VendorAdapter } from '../types.js';
import { anthropicFailure } from './errors.js';
import { AnthropicStreamDecoder, MalformedStreamError } from './stream.js';
import { fromAnthropicResponse, toAnthropicRequest } from './translate.js';
import { AnthropicResponseSchema } from './wire.js';
import type { SseEvent } from '../sse.js';

export const ANTHROPIC_VERSION = '2023-06-01';

export const createAnthropicAdapter: AdapterFactory = (vendorRegion, deps) => {
  const source: FailureSource = { vendor: vendorRegion.vendor, vendorRegion: vendorRegion.id };
  const now = deps.now ?? (() => performance.now());
  const credentials = new VendorCredentials(vendorRegion, deps.secrets);

  async function send(request: CanonicalRequest, options: CallOptions, stream: boolean) {
    // Kept, the key costs no wait: the request leaves before this turn's other writes.
    const key = credentials.get('apiKey');
    const apiKey = typeof key === 'string' ? key : await key;
    const response = await sendVendorRequest(source, deps.dispatcher, options, {
      url: `${vendorRegion.baseUrl.replace(/\/$/, '')}/v1/messages`,
      headers: {
        'content-type': 'application/json',
        accept: stream ? 'text/event-stream' : 'application/json',
        'x-api-key': apiKey,
        'anthropic-version': ANTHROPIC_VERSION,
      },
      body: JSON.stringify(toAnthropicRequest(request, options.deployment.vendorModelId, { stream })),
    }, now);
    if (response.statusCode !== 200) throw await failureOf(response, (status, headers, text) => anthropicFailure(source, status, headers, text));
    return response;
  }

  return { vendorRegion, ...anthropicCalls(source, send) };
};

/**
 * The plain and streamed calls of every vendor that answers in Anthropic's shapes (Anthropic
 * itself and Vertex), given how that vendor sends a request and checks its status.
 */
export function anthropicCalls(
  source: FailureSource,
  send: (request: CanonicalRequest, options: CallOptions, stream: boolean) => Promise<VendorHttpResponse>,
): Pick<VendorAdapter, 'complete' | 'stream'> {
  return {
    async complete(request, options) {
      const response = await send(request, options, false);
      const body = await readJsonBody(source, response, AnthropicResponseSchema);
      const result = fromAnthropicResponse(body);
      response.timer.addUsage(result.usage);
      response.timer.end();
      return { response: result, metrics: response.timer.snapshot() };
    },
    async stream(request, options) {
      const response = await send(request, options, true);
      try {
        return createVendorStream(source, response, { batches: decodeAnthropicSse(source, sseBody(source, response)), terminal: 'message_stop' });
      } catch (error) {
        // A 200 that is not a stream never reaches the stream's own cleanup.
        response.release();
        throw error;
      }
    },
  };
}

/** Anthropic SSE → canonical events; also used by Vertex, whose stream is the same. */
export async function* decodeAnthropicSse(source: FailureSource, events: AsyncIterable<SseEvent[]>): AsyncGenerator<StreamEvent[]> {
  const decoder = new AnthropicStreamDecoder();
  for await (const batch of events) {
    try {
      yield batch.flatMap((event) => decoder.push(event));
    } catch (error) {
      if (error instanceof MalformedStreamError) throw malformedResponse(source, error.message, error.excerpt, error);
      throw error;
    }
  }
}
