/**
 * Anthropic's error envelope, read for the error policy. Shared by the Anthropic, Vertex and Bedrock
 * adapters, since all three can answer in it.
 */
import { jsonOrUndefined } from '../response.js';
import type { HttpFailure, FailureSource } from '../classify.js';
import { retryAfterMs, type Headers } from '../headers.js';
import { AnthropicErrorSchema } from './wire.js';

/** The status, the vendor's error type (or `error_code` when it tells a spent cap from a rate limit), and the message. */
export function anthropicFailure(source: FailureSource, status: number, headers: Headers, text: string): HttpFailure {
  const parsedJson = jsonOrUndefined(text);
  const parsed = AnthropicErrorSchema.safeParse(parsedJson);
  const error = parsed.success ? parsed.data.error : undefined;
  return {
    ...source,
    status,
    vendorCode: error?.details?.error_code ?? error?.type,
    message: error?.message,
    retryAfterMs: retryAfterMs(headers),
    excerpt: text.slice(0, 200),
  };
}
