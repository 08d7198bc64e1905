/**
 * The HTTP plumbing the gateway's endpoints share: reading a body within a size limit, writing
 * JSON and server-sent events, and waiting for a slow reader without holding its answer in memory.
 */
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { nestsDeeperThan, REQUEST_LIMITS } from '../domain/index.js';
import { problem, type Problem } from './problems.js';

export type Headers = Record<string, string | number>;

/** The body as JSON, or the problem with it: too large (checked while it arrives), too deep, not JSON. */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<{ ok: true; value: unknown } | { ok: false; problem: Problem }> {
  const tooLarge = () => ({ ok: false as const, problem: problem('too_large', 'request_too_large', `the request body is over the limit of ${maxBytes} bytes; send a smaller one`) });
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    // Stop reading at once: a client sending gigabytes costs no more than the limit.
    if (size > maxBytes) return tooLarge();
    chunks.push(chunk as Buffer);
  }
  const bytes = Buffer.concat(chunks);
  if (nestsDeeperThan(bytes, REQUEST_LIMITS.maxDepth)) {
    return { ok: false, problem: problem('invalid_request', 'invalid_request', `the body nests arrays and objects deeper than ${REQUEST_LIMITS.maxDepth} levels`, { param: 'body' }) };
  }
  try {
    return { ok: true, value: JSON.parse(bytes.toString('utf8')) as unknown };
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return { ok: false, problem: problem('invalid_request', 'invalid_request', `the body is not JSON (${why}); send a JSON object`, { param: 'body' }) };
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Headers = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export const SSE_HEADERS: Headers = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' };

/**
 * Writes and, when the socket's buffer is full, waits until the reader drains it. A reader that
 * drains nothing for `stallMs` is cut off: a slow client holds one buffer, never the whole answer.
 * False when the response is gone (the client left, or was cut off).
 */
export async function writeOrWait(res: ServerResponse, text: string, stallMs: number): Promise<boolean> {
  if (res.destroyed) return false;
  if (res.write(text)) return true;
  const stalled = new AbortController();
  const timer = setTimeout(() => stalled.abort(), stallMs);
  try {
    await Promise.race([once(res, 'drain', { signal: stalled.signal }), once(res, 'close', { signal: stalled.signal })]);
    return !res.destroyed;
  } catch {
    res.destroy();
    return false;
  } finally {
    clearTimeout(timer);
    stalled.abort();
  }
}
