/**
 * One request through the gateway, whichever API it came in: forwarded over NATS by the client
 * library, answered whole or streamed. A failure before the first token is a real HTTP status (the
 * router fails over unseen until then, so a stream has nothing to show before it); after it, the
 * API's own in-stream error ends the stream, never a clean end. A client that goes away cancels the
 * request upstream through NATS at once.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServedBy, SwitchyardClient } from '../client/index.js';
import type { CanonicalRequest, CanonicalResponse, StreamEvent } from '../domain/index.js';
import type { Caller } from './caller.js';
import { sendJson, SSE_HEADERS, writeOrWait, type Headers } from './http.js';
import { problemOf, retryAfterSeconds, type Problem } from './problems.js';

/** How an API writes what the gateway has to say. */
export interface ApiShape {
  errorBody(problem: Problem, requestId: string): unknown;
  /** The server-sent event that ends a stream with this problem. */
  streamError(problem: Problem): string;
  /** Where this API's SDK looks for the request id. */
  requestIdHeader: string;
}

/** How an API writes an answer. */
export interface AnswerShape {
  whole(response: CanonicalResponse, servedBy: ServedBy): unknown;
  /** Encodes a stream's events as server-sent events, in order. */
  encoder(): (event: StreamEvent) => string[];
}

export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  requestId: string;
  shape: ApiShape;
  /** Aborted when the client closes the connection before its answer has been written. */
  gone: AbortSignal;
}

export interface RelayOptions {
  client: SwitchyardClient;
  /** A reader that drains nothing for this long is cut off. */
  stallMs: number;
}

/** The exchange of one request, watching for the client leaving from the first byte on. */
export function openExchange(req: IncomingMessage, res: ServerResponse, shape: ApiShape, requestId: string = randomUUID()): Exchange {
  const gone = new AbortController();
  const leave = () => gone.abort(new Error('the HTTP client closed the connection'));
  if (res.destroyed) leave();
  else res.once('close', () => !res.writableFinished && leave());
  return { req, res, requestId, shape, gone: gone.signal };
}

export function sendProblem(x: Exchange, problem: Problem): void {
  const headers: Headers = { [x.shape.requestIdHeader]: x.requestId, 'x-switchyard-request-id': x.requestId, 'x-switchyard-error': problem.code };
  if (problem.retryAfterMs !== undefined && (problem.status === 429 || problem.status === 503)) headers['retry-after'] = retryAfterSeconds(problem.retryAfterMs);
  // Both SDKs retry 5xx on their own; a failure that says retrying is futile (or a deadline, which
  // a retry would only multiply) tells them not to.
  if (problem.retryable === false || problem.kind === 'timeout') headers['x-should-retry'] = 'false';
  if (problem.status === 405) headers.allow = 'POST';
  sendJson(x.res, problem.status, x.shape.errorBody(problem, x.requestId), headers);
}

/** What the bus says goes into a header only as plain visible ASCII: a node's reply is not trusted to be a header. */
function headerValue(value: string): string | undefined {
  return /^[\x21-\x7e]{1,200}$/.test(value) ? value : undefined;
}

function servedHeaders(x: Exchange, servedBy: ServedBy | undefined): Headers {
  const headers: Headers = { [x.shape.requestIdHeader]: x.requestId, 'x-switchyard-request-id': x.requestId };
  const deployment = servedBy && headerValue(servedBy.deployment);
  const model = servedBy && headerValue(servedBy.model);
  if (deployment) headers['x-switchyard-deployment'] = deployment;
  if (model) headers['x-switchyard-model'] = model;
  return headers;
}

export async function relay(options: RelayOptions, x: Exchange, call: { request: CanonicalRequest; stream: boolean; caller: Caller }, answer: AnswerShape): Promise<void> {
  const { caller } = call;
  const requestOptions = {
    useCase: caller.useCase,
    tenant: caller.tenant,
    priority: caller.priority,
    deadlineMs: caller.deadlineMs,
    requestId: x.requestId,
    signal: x.gone,
  };
  if (!call.stream) {
    try {
      const result = await options.client.complete(call.request, requestOptions);
      // A reader who never takes the answer cannot hold the socket past the stall limit.
      x.res.setTimeout(options.stallMs, () => x.res.destroy());
      sendJson(x.res, 200, answer.whole(result.response, result.servedBy), servedHeaders(x, result.servedBy));
    } catch (error) {
      if (!x.gone.aborted) sendProblem(x, problemOf(error));
    }
    return;
  }
  const stream = options.client.stream(call.request, requestOptions);
  const events = stream[Symbol.asyncIterator]();
  const encode = answer.encoder();
  let first: IteratorResult<StreamEvent>;
  try {
    first = await events.next();
  } catch (error) {
    if (!x.gone.aborted) sendProblem(x, problemOf(error));
    return;
  }
  try {
    x.res.writeHead(200, { ...SSE_HEADERS, ...servedHeaders(x, stream.startedBy) });
    for (let next = first; !next.done; next = await events.next()) {
      for (const frame of encode(next.value)) {
        // Gone or cut off: the finally below cancels the request upstream.
        if (!(await writeOrWait(x.res, frame, options.stallMs))) return;
      }
    }
  } catch (error) {
    if (!x.gone.aborted && !x.res.destroyed) x.res.write(x.shape.streamError(problemOf(error)));
  } finally {
    // However the loop ended, the request upstream ends with it (a no-op after its end).
    await events.return?.();
    x.res.end();
  }
}
