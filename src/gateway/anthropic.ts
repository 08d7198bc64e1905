/**
 * `POST /v1/messages` in Anthropic's shape: the body read as strictly as Anthropic reads it, the
 * answer written as Anthropic writes it (plain, or the event sequence message_start …
 * message_stop), whichever vendor served it.
 */
import type { ServedBy } from '../client/index.js';
import type { CanonicalResponse } from '../domain/index.js';
import { AnthropicStreamEncoder, formatSse } from '../vendors/anthropic/stream.js';
import { valueAt } from '../vendors/openai/request-issues.js';
import { fromAnthropicRequest, toAnthropicResponse } from '../vendors/anthropic/translate.js';
import { AnthropicRequestSchema } from '../vendors/anthropic/wire.js';
import type { ParsedCall } from './endpoint.js';
import { problem, type Problem, type ProblemKind } from './problems.js';
import type { AnswerShape, ApiShape } from './relay.js';

/** Anthropic's error types, which its SDKs and users match on. */
const TYPES: Record<ProblemKind, string> = {
  invalid_request: 'invalid_request_error',
  authentication: 'authentication_error',
  permission: 'permission_error',
  not_found: 'not_found_error',
  too_large: 'request_too_large',
  rate_limited: 'rate_limit_error',
  server: 'api_error',
  overloaded: 'overloaded_error',
  unavailable: 'api_error',
  timeout: 'timeout_error',
};

const errorObject = (p: Problem) => ({ type: TYPES[p.kind], message: p.param ? `${p.param}: ${p.message}` : p.message });

export const anthropicShape: ApiShape = {
  requestIdHeader: 'request-id',
  errorBody: (p, requestId) => ({ type: 'error', error: errorObject(p), request_id: requestId }),
  // Anthropic ends a stream right after its error event; clients raise it.
  streamError: (p) => formatSse('error', { type: 'error', error: errorObject(p) }),
};

export function parseMessages(json: unknown): ParsedCall | Problem {
  const parsed = AnthropicRequestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = issue?.path.map(String).join('.') || undefined;
    // As Anthropic words it: `max_tokens: Field required`.
    const missing = issue?.code === 'invalid_type' && valueAt(json, issue.path) === undefined;
    return problem('invalid_request', 'invalid_request', missing ? 'Field required' : (issue?.message ?? 'invalid body'), { param });
  }
  const body = parsed.data;
  try {
    return { request: fromAnthropicRequest(body), stream: body.stream === true, answer: messagesAnswer };
  } catch (error) {
    return problem('invalid_request', 'invalid_request', error instanceof Error ? error.message : String(error));
  }
}

function messagesAnswer(requestId: string): AnswerShape {
  const id = `msg_${requestId.replace(/-/g, '')}`;
  return {
    whole: (response: CanonicalResponse, servedBy: ServedBy) => toAnthropicResponse(Object.assign({}, response, { id }), servedBy.model),
    encoder: () => {
      const encoder = new AnthropicStreamEncoder();
      return (event) => encoder.encode(event.type === 'start' ? Object.assign({}, event, { id }) : event).map((frame) => formatSse(frame.event, frame.data));
    },
  };
}
