/**
 * What the simulated OpenAI and Azure OpenAI share: the error envelope, request validation with
 * OpenAI's messages, and serving one chat completion (plain, broken, or streamed as `data:` chunks
 * ending in `[DONE]`). Each protocol supplies its dialect: headers, refusals, in-stream errors and
 * Azure's content-filter annotations.
 */
import type { ServerResponse } from 'node:http';
import type { z } from 'zod';
import type { Deployment } from '../../config/index.js';
import type { CanonicalRequest } from '../../domain/index.js';
import { OpenAIStreamEncoder, formatSseData } from '../../vendors/openai/stream.js';
import { fromOpenAIRequest, toOpenAIResponse } from '../../vendors/openai/translate.js';
import { describeRequestIssue } from '../../vendors/openai/request-issues.js';
import type { OpenAIRequest, OpenAIResponse } from '../../vendors/openai/wire.js';
import type { Refusal, SimStep } from '../engine.js';
import { answerRefusal, parseJson, playStream, sendJson, track, type Exchange } from '../protocol.js';

export interface OpenAIErrorBody {
  message: string;
  type?: string | null;
  param?: string | null;
  code?: string | null;
}

export type StreamErrorKind = Extract<SimStep, { type: 'stream_error' }>['error'];
export type AnsweredRefusal = Exclude<Refusal, { kind: 'hang' }>;

/** OpenAI writes all four keys, nulls included; clients read `code` and `type`. */
export function openaiError(res: ServerResponse, status: number, error: OpenAIErrorBody, headers: Record<string, string | number> = {}): void {
  sendJson(res, status, { error: { message: error.message, type: error.type ?? null, param: error.param ?? null, code: error.code ?? null } }, headers);
}

export function invalidRequest(res: ServerResponse, message: string, param: string | null = null, code: string | null = null): void {
  openaiError(res, 400, { message, type: 'invalid_request_error', param, code });
}

export const SERVER_ERROR: OpenAIErrorBody = {
  message: 'The server had an error while processing your request. Sorry about that!',
  type: 'server_error',
};

/** OpenAI's overload is a 503 `server_error` told apart from an outage only by its words. */
export const OVERLOADED: OpenAIErrorBody = {
  message: 'That model is currently overloaded with other requests. You can retry your request, or contact us through our help center if the error persists.',
  type: 'server_error',
};

/** Go's `time.Duration` text, as OpenAI writes its reset headers: `12ms`, `1.5s`, `6m0s`, `1h2m3.5s`. */
export function goDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms));
  if (total === 0) return '0s';
  if (total < 1000) return `${total}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const seconds = `${Number(((total % 60_000) / 1000).toFixed(3))}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  return minutes > 0 ? `${minutes}m${seconds}` : seconds;
}

/**
 * Parses and validates a Chat Completions body, answering 400 in OpenAI's words (naming the field)
 * when it is not one. `prepare` lets Azure put the deployment in `model`, which its URL names.
 */
export function readChatRequest(
  exchange: Exchange,
  schema: z.ZodType<OpenAIRequest>,
  prepare: (json: unknown) => unknown = (json) => json,
): OpenAIRequest | undefined {
  const json = parseJson(exchange.body);
  if (!json.ok) {
    invalidRequest(exchange.res, `We could not parse the JSON body of your request. (The OpenAI API expects a JSON payload: ${json.error})`);
    return undefined;
  }
  const value = prepare(json.value);
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = describeRequestIssue(parsed.error.issues[0], value);
  invalidRequest(exchange.res, issue.message, issue.param, issue.code);
  return undefined;
}

export interface ChatDialect {
  /** Sent with every admitted answer: request ids and rate-limit headers. */
  headers(exchange: Exchange, deployment: Deployment, callId: string): Record<string, string | number>;
  writeRefusal(exchange: Exchange, deployment: Deployment, refusal: AnsweredRefusal): void;
  /** The `error` object of a `data: {"error":...}` event. */
  streamError(kind: StreamErrorKind): OpenAIErrorBody | Record<string, unknown>;
  /** Payloads sent before the answer's first chunk (Azure's prompt-filter chunk). */
  preamble(): string[];
  /** Adds what the vendor writes around a plain answer (Azure's content-filter results). */
  decorate(response: OpenAIResponse): Record<string, unknown>;
}

/** Answers a validated request for `deployment` through the simulation, plain or streamed. */
export async function serveChat(exchange: Exchange, deployment: Deployment, body: OpenAIRequest, dialect: ChatDialect): Promise<void> {
  const { res, sim, vendorRegion } = exchange;
  let request: CanonicalRequest;
  try {
    request = fromOpenAIRequest(body);
  } catch (error) {
    // What OpenAI accepts and the simulation cannot play (n > 1, tool arguments that are not JSON).
    return invalidRequest(res, error instanceof Error ? error.message : String(error));
  }
  const call = sim.begin(vendorRegion, deployment, request);
  track(exchange, call);
  if (call.refusal) return answerRefusal(exchange, call.refusal, (r) => dialect.writeRefusal(exchange, deployment, r));
  const headers = dialect.headers(exchange, deployment, call.id);
  const id = `chatcmpl-${call.id}`;

  if (!body.stream) {
    const result = await call.complete(exchange.clientGone);
    if ('broken' in result) {
      if (result.broken === 'cut') return void res.destroy();
      res.writeHead(200, { 'content-type': 'application/json', ...headers });
      return void res.end(`{"id":"${id}","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"tr`);
    }
    const response = toOpenAIResponse({ ...result.response, id }, deployment.vendorModelId);
    return sendJson(res, 200, dialect.decorate({ ...response, system_fingerprint: SYSTEM_FINGERPRINT }), headers);
  }

  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...headers });
  const write = (payload: string) => res.write(formatSseData(payload));
  for (const payload of dialect.preamble()) write(payload);
  const encoder = new OpenAIStreamEncoder({
    id,
    model: deployment.vendorModelId,
    created: Math.floor(Date.now() / 1000),
    includeUsage: body.stream_options?.include_usage === true,
    systemFingerprint: SYSTEM_FINGERPRINT,
  });
  await playStream(exchange, call, {
    event: (event) => encoder.encode(event).forEach(write),
    malformed: () => write(`{"id":"${id}","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"tr`),
    // No [DONE] after it: the vendor stops there, and clients must not take the partial answer as whole.
    streamError: (kind) => write(JSON.stringify({ error: dialect.streamError(kind) })),
  });
}

const SYSTEM_FINGERPRINT = 'fp_switchyard_sim';
