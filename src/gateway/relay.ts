/**
 * One request through the gateway, whichever API it came in: forwarded over NATS by the client
 * library, answered whole or streamed. A failure before the first token is a real HTTP status (the
 * router fails over unseen until then, so a stream has nothing to show before it); after it, the
 * API's own in-stream error ends the stream, never a clean end. A client that goes away cancels the
 * request upstream through NATS at once.
 */
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
}

export interface RelayOptions {
  client: SwitchyardClient;
  /** A stream's reader that drains nothing for this long is cut off. */
  stallMs: number;
}

export function sendProblem(x: Exchange, problem: Problem): void {
  const headers: Headers = { [x.shape.requestIdHeader]: x.requestId, 'x-switchyard-request-id': x.requestId, 'x-switchyard-error': problem.code };
  if (problem.retryAfterMs !== undefined && (problem.status === 429 || problem.status === 503)) headers['retry-after'] = retryAfterSeconds(problem.retryAfterMs);
  sendJson(x.res, problem.status, x.shape.errorBody(problem, x.requestId), headers);
}

function servedHeaders(x: Exchange, requestId: string, servedBy: ServedBy | undefined): Headers {
  return {
    [x.shape.requestIdHeader]: requestId,
    'x-switchyard-request-id': requestId,
    ...(servedBy ? { 'x-switchyard-deployment': servedBy.deployment, 'x-switchyard-model': servedBy.model } : {}),
  };
}

/** Aborted when the client closes the connection before the answer has been written. */
function clientGone(x: Exchange): AbortSignal {
  const gone = new AbortController();
  x.res.once('close', () => {
    if (!x.res.writableFinished) gone.abort(new Error('the HTTP client closed the connection'));
  });
  return gone.signal;
}

export async function relay(options: RelayOptions, x: Exchange, call: { request: CanonicalRequest; stream: boolean; caller: Caller }, answer: AnswerShape): Promise<void> {
  const { caller } = call;
  const requestOptions = {
    useCase: caller.useCase,
    tenant: caller.tenant,
    priority: caller.priority,
    deadlineMs: caller.deadlineMs,
    requestId: x.requestId,
    signal: clientGone(x),
  };
  if (!call.stream) {
    try {
      const result = await options.client.complete(call.request, requestOptions);
      sendJson(x.res, 200, answer.whole(result.response, result.servedBy), servedHeaders(x, result.requestId, result.servedBy));
    } catch (error) {
      if (!requestOptions.signal.aborted) sendProblem(x, problemOf(error));
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
    if (!requestOptions.signal.aborted) sendProblem(x, problemOf(error));
    return;
  }
  x.res.writeHead(200, { ...SSE_HEADERS, ...servedHeaders(x, x.requestId, stream.startedBy) });
  try {
    for (let next = first; !next.done; next = await events.next()) {
      for (const frame of encode(next.value)) {
        if (!(await writeOrWait(x.res, frame, options.stallMs))) {
          // Gone or cut off: leaving the loop cancels the request upstream.
          await events.return?.();
          return;
        }
      }
    }
  } catch (error) {
    if (requestOptions.signal.aborted) return;
    x.res.write(x.shape.streamError(problemOf(error)));
  }
  x.res.end();
}
