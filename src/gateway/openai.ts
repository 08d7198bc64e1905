/**
 * `POST /v1/chat/completions` in OpenAI's shape: the body read as strictly as OpenAI reads it, the
 * answer written as OpenAI writes it (plain, or `data:` chunks ending in `[DONE]`, usage when
 * `stream_options.include_usage` asks), whichever vendor served it.
 */
import type { ServedBy } from '../client/index.js';
import type { CanonicalResponse } from '../domain/index.js';
import { describeRequestIssue } from '../vendors/openai/request-issues.js';
import { formatSseData, OpenAIStreamEncoder } from '../vendors/openai/stream.js';
import { fromOpenAIRequest, toOpenAIResponse } from '../vendors/openai/translate.js';
import { OpenAIRequestSchema } from '../vendors/openai/wire.js';
import { problem, type Problem, type ProblemKind } from './problems.js';
import type { AnswerShape, ApiShape } from './relay.js';
import type { ParsedCall } from './endpoint.js';

const TYPES: Record<ProblemKind, string> = {
  invalid_request: 'invalid_request_error',
  authentication: 'invalid_request_error',
  permission: 'invalid_request_error',
  not_found: 'invalid_request_error',
  too_large: 'invalid_request_error',
  rate_limited: 'requests',
  server: 'server_error',
  overloaded: 'server_error',
  unavailable: 'server_error',
  timeout: 'server_error',
};

const errorObject = (p: Problem) => ({ message: p.message, type: TYPES[p.kind], param: p.param ?? null, code: p.code });

export const openaiShape: ApiShape = {
  requestIdHeader: 'x-request-id',
  errorBody: (p) => ({ error: errorObject(p) }),
  // No [DONE] after it: a lenient client must not take the partial answer for a whole one.
  streamError: (p) => formatSseData(JSON.stringify({ error: errorObject(p) })),
};

export function parseChatCompletion(json: unknown): ParsedCall | Problem {
  const parsed = OpenAIRequestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = describeRequestIssue(parsed.error.issues[0], json);
    return problem('invalid_request', issue.code, issue.message, { param: issue.param ?? undefined });
  }
  const body = parsed.data;
  try {
    const request = fromOpenAIRequest(body);
    return { request, stream: body.stream === true, answer: chatAnswer(body.stream_options?.include_usage === true) };
  } catch (error) {
    // What OpenAI's shape allows and no canonical request can say (n > 1, tool arguments that are not JSON).
    return problem('invalid_request', 'invalid_request', error instanceof Error ? error.message : String(error));
  }
}

function chatAnswer(includeUsage: boolean): (requestId: string) => AnswerShape {
  return (requestId) => {
    const id = `chatcmpl-${requestId}`;
    return {
      whole: (response: CanonicalResponse, servedBy: ServedBy) => toOpenAIResponse(Object.assign({}, response, { id }), servedBy.model),
      encoder: () => {
        let encoder: OpenAIStreamEncoder | undefined;
        return (event) => {
          // The model is known at the start: the one that began the answer.
          encoder ??= new OpenAIStreamEncoder({ id, model: event.type === 'start' ? event.model : '', created: Math.floor(Date.now() / 1000), includeUsage });
          return encoder.encode(event).map(formatSseData);
        };
      },
    };
  };
}
