/**
 * The `{"error":{...}}` envelope OpenAI and Azure OpenAI answer with, read for the error policy.
 * OpenAI fills `code` (`rate_limit_exceeded`, `insufficient_quota`) and `type`; Azure often puts the
 * HTTP status in `code` as a string ("429") or its own word (`DeploymentNotFound`).
 */
import { jsonOrUndefined } from '../response.js';
import type { FailureSource, HttpFailure } from '../classify.js';
import { retryAfterMs, type Headers } from '../headers.js';
import { OpenAIErrorEnvelopeSchema, type OpenAIErrorEnvelope } from './wire.js';

export function openaiFailure(source: FailureSource, status: number, headers: Headers, text: string): HttpFailure {
  const json = jsonOrUndefined(text);
  const parsed = OpenAIErrorEnvelopeSchema.safeParse(json);
  const error = parsed.success ? parsed.data.error : undefined;
  return {
    ...source,
    status,
    vendorCode: vendorCodeOf(error),
    message: error?.message,
    retryAfterMs: retryAfterMs(headers),
    excerpt: text.slice(0, 200),
  };
}

/**
 * `code` names the case most precisely (`insufficient_quota` is a 429 like any rate limit, and only
 * the code tells them apart); Azure sometimes leaves it null and says why only in `innererror`.
 */
function vendorCodeOf(error: OpenAIErrorEnvelope['error'] | undefined): string | undefined {
  if (error === undefined) return undefined;
  const candidates = [error.code, error.innererror?.code, error.type];
  for (const candidate of candidates) if (candidate != null && candidate !== '') return String(candidate);
  return undefined;
}
