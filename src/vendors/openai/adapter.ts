/**
 * The OpenAI Chat Completions adapter: `POST {baseUrl}/chat/completions` with a bearer key, plain or
 * streamed as `data:`-only server-sent events ending in `[DONE]`. Azure OpenAI speaks the same body
 * and stream at another URL with another key header, so the core here serves both adapters.
 */
import type { CanonicalRequest, CanonicalResponse, StreamEvent } from '../../domain/index.js';
import type { Deployment, VendorRegion } from '../../config/index.js';
import { malformedResponse, truncatedStream, type FailureSource } from '../classify.js';
import { sendVendorRequest } from '../http.js';
import { MalformedStreamError } from '../malformed.js';
import { failureOf, readJsonBody, sseBody } from '../response.js';
import type { SseEvent } from '../sse.js';
import { createVendorStream } from '../stream.js';
import { VendorCredentials } from '../credentials.js';
import type { AdapterDeps, AdapterFactory, CallOptions, VendorAdapter } from '../types.js';
import { openaiFailure } from './errors.js';
import { OpenAIStreamDecoder, streamErrorEvent } from './stream.js';
import { fromOpenAIResponse, toOpenAIRequest } from './translate.js';
import { OpenAIResponseSchema } from './wire.js';

/** What differs between the vendors that speak Chat Completions: where to send, how to show the key. */
export interface ChatCompletionsEndpoint {
  url(deployment: Deployment): string;
  authHeaders(apiKey: string): Record<string, string>;
}

/** Where the decoder stops: a stream that ends anywhere else was cut. */
const TERMINAL = 'a finish_reason and [DONE]';

export const createOpenAIAdapter: AdapterFactory = (vendorRegion, deps) =>
  createChatCompletionsAdapter(vendorRegion, deps, {
    // The configured base URL already carries the API version path (`https://api.openai.com/v1`).
    url: () => `${vendorRegion.baseUrl.replace(/\/$/, '')}/chat/completions`,
    authHeaders: (apiKey) => ({ authorization: `Bearer ${apiKey}` }),
  });

export function createChatCompletionsAdapter(vendorRegion: VendorRegion, deps: AdapterDeps, endpoint: ChatCompletionsEndpoint): VendorAdapter {
  const source: FailureSource = { vendor: vendorRegion.vendor, vendorRegion: vendorRegion.id };
  const now = deps.now ?? (() => performance.now());
  const credentials = new VendorCredentials(vendorRegion, deps.secrets);

  async function send(request: CanonicalRequest, options: CallOptions, stream: boolean) {
    // Kept, the key costs no wait: the request leaves before this turn's other writes.
    const key = credentials.get('apiKey');
    const apiKey = typeof key === 'string' ? key : await key;
    const response = await sendVendorRequest(source, deps.dispatcher, options, {
      url: endpoint.url(options.deployment),
      headers: {
        'content-type': 'application/json',
        accept: stream ? 'text/event-stream' : 'application/json',
        ...endpoint.authHeaders(apiKey),
      },
      body: JSON.stringify(toOpenAIRequest(request, options.deployment.vendorModelId, { stream })),
    }, now);
    if (response.statusCode !== 200) throw await failureOf(response, (status, headers, text) => openaiFailure(source, status, headers, text));
    return response;
  }

  return {
    vendorRegion,
    async complete(request, options) {
      const response = await send(request, options, false);
      const body = await readJsonBody(source, response, OpenAIResponseSchema);
      let result: CanonicalResponse;
      try {
        result = fromOpenAIResponse(body);
      } catch (error) {
        // No choices, or tool arguments that are not a JSON object: the answer cannot be used.
        throw malformedResponse(source, error instanceof Error ? error.message : String(error), JSON.stringify(body), error);
      }
      response.timer.addUsage(result.usage);
      response.timer.end();
      return { response: result, metrics: response.timer.snapshot() };
    },
    async stream(request, options) {
      const response = await send(request, options, true);
      return createVendorStream(source, response, { batches: decodeOpenAISse(source, sseBody(source, response)), terminal: TERMINAL });
    },
  };
}

/**
 * OpenAI SSE → canonical events. Success needs both a finish_reason and `[DONE]`: some proxies close
 * a cut stream with `[DONE]` anyway, and a stream without `[DONE]` may have lost its usage chunk.
 */
export async function* decodeOpenAISse(source: FailureSource, events: AsyncIterable<SseEvent[]>): AsyncGenerator<StreamEvent[]> {
  const decoder = new OpenAIStreamDecoder();
  for await (const batch of events) {
    const decoded: StreamEvent[] = [];
    for (const event of batch) {
      if (event.event === 'error') {
        decoded.push(streamErrorEvent(event.data));
        break;
      }
      try {
        decoded.push(...decoder.push(event.data));
      } catch (error) {
        if (error instanceof MalformedStreamError) throw malformedResponse(source, error.message, error.excerpt, error);
        throw error;
      }
      if (decoder.done) break;
    }
    // What arrived before a cut still reaches the consumer, which decides whether it was forwarded.
    if (decoded.length > 0) yield decoded;
    if (decoder.done && !decoder.sawFinish) throw truncatedStream(source, 'a finish_reason before [DONE]');
    if (decoder.done) return;
  }
}
