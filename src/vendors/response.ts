/**
 * Reading a vendor's 200 answer: the content type must be what the protocol promises, the JSON must
 * parse and match the wire schema; anything else is a classified malformed-response fault.
 */
import type { z } from 'zod';
import { classifyHttpFailure, malformedResponse, type FailureSource, type HttpFailure } from './classify.js';
import { header } from './headers.js';
import type { VendorHttpResponse } from './http.js';
import { sseEvents, type SseEvent } from './sse.js';
import type { VendorError } from '../domain/index.js';

/** Large enough for any completion; a vendor that sends more is misbehaving. */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** Reads a non-2xx answer and classifies it with the protocol's own error reader. */
export async function failureOf(
  response: VendorHttpResponse,
  read: (status: number, headers: VendorHttpResponse['headers'], text: string) => HttpFailure,
): Promise<VendorError> {
  try {
    const text = await response.text();
    return classifyHttpFailure(read(response.statusCode, response.headers, text));
  } catch (error) {
    return response.bodyFailure(error);
  } finally {
    response.release();
  }
}

export async function readJsonBody<T>(source: FailureSource, response: VendorHttpResponse, schema: z.ZodType<T>): Promise<T> {
  try {
    expectContentType(source, response, 'application/json');
    const text = await response.text(MAX_RESPONSE_BYTES);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw malformedResponse(source, 'body is not JSON', text, error);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw malformedResponse(source, `body does not match the ${source.vendor} response shape (${parsed.error.issues[0]?.message ?? ''})`, text);
    return parsed.data;
  } catch (error) {
    throw response.bodyFailure(error);
  } finally {
    response.release();
  }
}

export function expectContentType(source: FailureSource, response: VendorHttpResponse, expected: string): void {
  const type = header(response.headers, 'content-type') ?? '';
  if (!type.toLowerCase().includes(expected)) {
    response.abort();
    response.release();
    throw malformedResponse(source, `content type "${type}" where ${expected} was expected`, type);
  }
}

/** The SSE events of a 200 stream, after checking it is one. */
export function sseBody(source: FailureSource, response: VendorHttpResponse): AsyncIterable<SseEvent[]> {
  expectContentType(source, response, 'text/event-stream');
  return sseEvents(response.chunks());
}

/** An error body's JSON, or undefined: vendors' error bodies are not always JSON (a CDN's 413 is HTML). */
export function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
