/**
 * The steps every completion endpoint takes, in the order that costs an attacker least: the key
 * first (nothing is read for a stranger), then the body within its limit, then the API's own
 * parse, then what the key may do with the model and use case, and only then a request on NATS.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config/index.js';
import type { CanonicalRequest } from '../domain/index.js';
import { authenticate, isProblem, resolveCaller } from './caller.js';
import { readJsonBody } from './http.js';
import type { ApiKeys } from './keys.js';
import type { Problem } from './problems.js';
import { openExchange, relay, sendProblem, type AnswerShape, type ApiShape, type Exchange, type RelayOptions } from './relay.js';

export interface ParsedCall {
  request: CanonicalRequest;
  stream: boolean;
  /** How the answer is written, given the request id it goes out under. */
  answer: (requestId: string) => AnswerShape;
}

export interface EndpointContext {
  config: Config;
  keys: ApiKeys;
  relay: RelayOptions;
  maxBodyBytes: number;
}

export async function serveCompletion(
  context: EndpointContext,
  req: IncomingMessage,
  res: ServerResponse,
  shape: ApiShape,
  parse: (json: unknown) => ParsedCall | Problem,
): Promise<void> {
  const x = openExchange(req, res, shape);
  const key = authenticate(context.keys, req.headers);
  if (isProblem(key)) return refuse(x, key);
  const body = await readJsonBody(req, context.maxBodyBytes);
  if (!body.ok) return refuse(x, body.problem);
  const call = parse(body.value);
  if (isProblem(call)) return sendProblem(x, call);
  const caller = resolveCaller(context.config, key, req.headers, call.request.model);
  if (isProblem(caller)) return sendProblem(x, caller);
  await relay(context.relay, x, { request: call.request, stream: call.stream, caller }, call.answer(x.requestId));
}

/** Answers before the body was read whole: the connection closes after, so the unread rest is never read. */
function refuse(x: Exchange, problem: Problem): void {
  x.res.shouldKeepAlive = false;
  sendProblem(x, problem);
}
