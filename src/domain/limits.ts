/**
 * Limits every request must keep, checked before any vendor is called: by the client before it
 * sends, by the router node before it parses. Each bounds what one message can make a node spend
 * (parsing, validating, translating, retrying), so a hostile or broken caller costs a fraction of a
 * millisecond and gets `invalid_request` naming what it overstepped. The figures are generous for
 * real traffic: vendors' own limits are lower (OpenAI takes at most 128 tools).
 */
import { ErrorCode, type Failure } from './errors.js';

export const REQUEST_LIMITS = {
  /** Bytes of the encoded request. NATS's own default max_payload is 1 MiB. */
  maxBytes: 4 * 1024 * 1024,
  /** Nesting of arrays and objects anywhere in the request, tool schemas included. */
  maxDepth: 64,
  maxMessages: 2_048,
  maxBlocksPerMessage: 1_024,
  maxTools: 128,
} as const;

/** The invalid_request a request's encoded bytes earn by size or nesting alone, or undefined. */
export function requestLimitError(json: Uint8Array): Failure | undefined {
  if (json.byteLength > REQUEST_LIMITS.maxBytes) {
    return { code: ErrorCode.InvalidRequest, message: `body: ${json.byteLength} bytes is over the limit of ${REQUEST_LIMITS.maxBytes}`, retryable: false, field: 'body' };
  }
  if (nestsDeeperThan(json, REQUEST_LIMITS.maxDepth)) {
    return { code: ErrorCode.InvalidRequest, message: `body: nests arrays and objects deeper than ${REQUEST_LIMITS.maxDepth} levels`, retryable: false, field: 'body' };
  }
  return undefined;
}

/**
 * Whether JSON text nests arrays and objects deeper than `max`, read in one pass over the bytes
 * without parsing, so a 20,000-deep schema is refused before JSON.parse and zod ever see it.
 * Brackets inside strings do not count. Input that is not JSON gives an answer that does not
 * matter: the parse that follows refuses it.
 */
export function nestsDeeperThan(json: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const byte = json[i];
    if (inString) {
      if (byte === 0x5c) i++; // backslash: the next byte is escaped
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x7b || byte === 0x5b) {
      if (++depth > max) return true;
    } else if (byte === 0x7d || byte === 0x5d) depth--;
  }
  return false;
}
