/**
 * Translation between the canonical request and response and OpenAI Chat Completions (also spoken
 * by Azure OpenAI), both ways: the OpenAI and Azure adapters go canonical → OpenAI → canonical, the
 * gateway and the simulator go OpenAI → canonical → OpenAI. Streams are in stream.ts.
 *
 * What does not survive a trip through the OpenAI shape (each is named again where it happens):
 * - `stop_sequence` becomes `stop` and comes back `end_turn`; OpenAI does not say which sequence hit.
 * - `refusal` becomes `content_filter` (the closest finish reason a Chat Completions client knows).
 * - Tool results: `isError` is dropped; images inside a tool result move to a user message right
 *   after the tool messages; text written before a tool result in one user message moves after it.
 * - Text after a tool call in an assistant message moves before it; several text blocks of a
 *   response are joined into one.
 * - `cacheWriteTokens` folds into `prompt_tokens`; image `detail` is dropped.
 * - A system or developer message in mid-conversation moves to the top of the system prompt.
 */
import { InvalidRequestError } from '../../domain/index.js';
import type {
  CanonicalRequest,
  CanonicalResponse,
  ContentBlock,
  ImageBlock,
  Message,
  StopReason,
  TextBlock,
  ToolCallBlock,
  ToolChoice,
  ToolResultBlock,
  Usage,
} from '../../domain/index.js';
import type {
  OpenAIAssistantMessage,
  OpenAIChatMessage,
  OpenAIFinishReason,
  OpenAIImageUrlPart,
  OpenAIRequest,
  OpenAIResponse,
  OpenAITextPart,
  OpenAIToolCall,
  OpenAIToolChoice,
  OpenAIToolMessage,
  OpenAIUsage,
  OpenAIUserMessage,
} from './wire.js';

/**
 * The output limit of a request that names none. OpenAI makes the limit optional but the canonical
 * request (like Anthropic's API) requires one; 4096 is the largest cap every model we route
 * accepts (Claude 3 Haiku stops there), so a default never turns a valid request into a 400.
 */
export const DEFAULT_MAX_TOKENS = 4096;

// ---------------------------------------------------------------------------------------------
// Requests: canonical → OpenAI

export function toOpenAIRequest(request: CanonicalRequest, model: string, options: { stream?: boolean } = {}): OpenAIRequest {
  const messages: OpenAIChatMessage[] = [];
  if (request.system !== undefined) messages.push({ role: 'system', content: request.system });
  for (const [i, message] of request.messages.entries()) {
    if (message.role === 'user') messages.push(...userToOpenAI(message.content, `messages.${i}.content`));
    else messages.push(assistantToOpenAI(message.content, `messages.${i}.content`));
  }
  const body: OpenAIRequest = { model, messages, max_tokens: request.maxTokens };
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.stopSequences !== undefined) body.stop = request.stopSequences;
  if (options.stream) {
    body.stream = true;
    // Without it OpenAI sends no usage at all in a stream, and usage feeds quotas and billing.
    body.stream_options = { include_usage: true };
  }
  if (request.tools !== undefined) {
    body.tools = request.tools.map((tool) => ({
      type: 'function' as const,
      function: {
        name: tool.name,
        ...(tool.description !== undefined ? { description: tool.description } : {}),
        parameters: tool.inputSchema,
      },
    }));
  }
  if (request.toolChoice !== undefined) body.tool_choice = toolChoiceToOpenAI(request.toolChoice);
  if (request.user !== undefined) body.user = request.user;
  return body;
}

/**
 * OpenAI wants each tool result as its own `tool` message directly after the assistant turn that
 * called it, so those come first, and whatever else the user said follows in one user message.
 */
function userToOpenAI(content: readonly ContentBlock[], path: string): OpenAIChatMessage[] {
  const toolMessages: OpenAIToolMessage[] = [];
  const rest: (OpenAITextPart | OpenAIImageUrlPart)[] = [];
  for (const [j, block] of content.entries()) {
    switch (block.type) {
      case 'text':
        rest.push({ type: 'text', text: block.text });
        break;
      case 'image':
        rest.push(imageToOpenAI(block));
        break;
      case 'tool_result':
        toolMessages.push({ role: 'tool', tool_call_id: block.toolCallId, content: toolResultContent(block) });
        // Tool messages take text only; the model still sees the images right after the results.
        for (const inner of block.content) if (inner.type === 'image') rest.push(imageToOpenAI(inner));
        break;
      case 'tool_call':
        // The canonical schema refuses this already; kept so a translation never sends it on.
        throw new InvalidRequestError(`${path}.${j}`, `a user message cannot hold tool call ${block.id} (${block.name}); only the assistant calls tools`);
    }
  }
  const messages: OpenAIChatMessage[] = [...toolMessages];
  const [only] = rest;
  if (only !== undefined) messages.push({ role: 'user', content: rest.length === 1 && only.type === 'text' ? only.text : rest });
  return messages;
}

/** One text block travels as a plain string, the form every OpenAI-compatible server accepts. */
function toolResultContent(block: ToolResultBlock): OpenAIToolMessage['content'] {
  const texts = block.content.filter((b): b is TextBlock => b.type === 'text');
  const [only] = texts;
  if (only === undefined) return '';
  return texts.length === 1 ? only.text : texts.map((t) => ({ type: 'text' as const, text: t.text }));
}

function assistantToOpenAI(content: readonly ContentBlock[], path: string): OpenAIAssistantMessage {
  const texts: OpenAITextPart[] = [];
  const toolCalls: OpenAIToolCall[] = [];
  for (const [j, block] of content.entries()) {
    switch (block.type) {
      case 'text':
        texts.push({ type: 'text', text: block.text });
        break;
      case 'tool_call':
        toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.arguments) } });
        break;
      case 'image':
      case 'tool_result':
        throw new InvalidRequestError(`${path}.${j}`, `an assistant message cannot hold a ${block.type} block; OpenAI (like Anthropic) takes only text and tool calls there`);
    }
  }
  const [only] = texts;
  const text = only === undefined ? null : texts.length === 1 ? only.text : texts;
  return { role: 'assistant', content: text, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) };
}

function imageToOpenAI(block: ImageBlock): OpenAIImageUrlPart {
  const url = block.source.kind === 'base64' ? `data:${block.source.mediaType};base64,${block.source.data}` : block.source.url;
  return { type: 'image_url', image_url: { url } };
}

function toolChoiceToOpenAI(choice: ToolChoice): OpenAIToolChoice {
  switch (choice.type) {
    case 'auto':
    case 'none':
      return choice.type;
    case 'any':
      return 'required';
    case 'tool':
      return { type: 'function', function: { name: choice.name } };
  }
}

// ---------------------------------------------------------------------------------------------
// Requests: OpenAI → canonical

/**
 * Reads a request already checked by OpenAIRequestSchema. The result is not re-validated here:
 * the caller checks it against CanonicalRequestSchema at the boundary, which also catches what
 * OpenAI allows and the canonical form does not (a tool name with dots, `top_p: 0`).
 */
export function fromOpenAIRequest(body: OpenAIRequest): CanonicalRequest {
  if (body.n != null && body.n > 1) throw new InvalidRequestError('n', `n = ${body.n} asks for several answers; only n = 1 is supported`);
  const system: string[] = [];
  const messages: Message[] = [];
  // Consecutive tool messages become one user message, which also takes the user message that
  // follows them: Anthropic-family vendors want a tool result and the next user words in one turn.
  let toolResults: ToolResultBlock[] = [];
  const flushToolResults = (): void => {
    if (toolResults.length > 0) messages.push({ role: 'user', content: toolResults });
    toolResults = [];
  };
  for (const message of body.messages) {
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(typeof message.content === 'string' ? message.content : message.content.map((p) => p.text).join('\n\n'));
        break;
      case 'tool':
        toolResults.push(toolResultFromOpenAI(message));
        break;
      case 'user':
        messages.push({ role: 'user', content: [...toolResults, ...userContentFromOpenAI(message.content)] });
        toolResults = [];
        break;
      case 'assistant':
        flushToolResults();
        messages.push({ role: 'assistant', content: assistantContentFromOpenAI(message) });
        break;
    }
  }
  flushToolResults();

  const request: CanonicalRequest = {
    model: body.model,
    messages,
    maxTokens: body.max_completion_tokens ?? body.max_tokens ?? DEFAULT_MAX_TOKENS,
  };
  if (system.length > 0) request.system = system.join('\n\n');
  if (body.tools !== undefined) {
    request.tools = body.tools.map((tool) => ({
      name: tool.function.name,
      ...(tool.function.description !== undefined ? { description: tool.function.description } : {}),
      inputSchema: tool.function.parameters ?? { type: 'object', properties: {} },
    }));
  }
  if (body.tool_choice !== undefined) request.toolChoice = toolChoiceFromOpenAI(body.tool_choice);
  if (body.temperature != null) request.temperature = body.temperature;
  if (body.top_p != null) request.topP = body.top_p;
  if (body.stop != null) request.stopSequences = typeof body.stop === 'string' ? [body.stop] : body.stop;
  const user = body.user ?? body.safety_identifier;
  if (user != null) request.user = user;
  return request;
}

function toolResultFromOpenAI(message: OpenAIToolMessage): ToolResultBlock {
  const content: TextBlock[] =
    typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content.map((p) => ({ type: 'text', text: p.text }));
  return { type: 'tool_result', toolCallId: message.tool_call_id, content };
}

function userContentFromOpenAI(content: OpenAIUserMessage['content']): (TextBlock | ImageBlock)[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return content.map((part) => (part.type === 'text' ? { type: 'text', text: part.text } : imageFromOpenAI(part.image_url.url)));
}

function assistantContentFromOpenAI(message: OpenAIAssistantMessage): ContentBlock[] {
  const toolCalls = message.tool_calls ?? [];
  const blocks: ContentBlock[] = [];
  const { content } = message;
  if (typeof content === 'string') {
    // Clients often send '' next to tool calls; it says nothing and Anthropic rejects empty text.
    if (content !== '' || toolCalls.length === 0) blocks.push({ type: 'text', text: content });
  } else if (content != null) {
    for (const part of content) blocks.push({ type: 'text', text: part.type === 'text' ? part.text : part.refusal });
  }
  for (const call of toolCalls) blocks.push(toolCallFromOpenAI(call));
  return blocks;
}

const DATA_URL = /^data:([^;,]+)(?:;[^;,]+)*;base64,(.+)$/s;

function imageFromOpenAI(url: string): ImageBlock {
  const match = DATA_URL.exec(url);
  if (match?.[1] !== undefined && match[2] !== undefined) return { type: 'image', source: { kind: 'base64', mediaType: match[1], data: match[2] } };
  return { type: 'image', source: { kind: 'url', url } };
}

function toolChoiceFromOpenAI(choice: OpenAIToolChoice): ToolChoice {
  if (typeof choice !== 'string') return { type: 'tool', name: choice.function.name };
  return choice === 'required' ? { type: 'any' } : { type: choice };
}

/** Shared by requests and responses: both carry tool calls whose input is JSON text. */
function toolCallFromOpenAI(call: OpenAIToolCall): ToolCallBlock {
  return { type: 'tool_call', id: call.id, name: call.function.name, arguments: parseToolArguments(call) };
}

function parseToolArguments(call: OpenAIToolCall): Record<string, unknown> {
  const text = call.function.arguments;
  // Some clients write '' for a tool without inputs; it means the empty input, not bad JSON.
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new Error(`tool call ${call.id} (${call.function.name}) has arguments that are not valid JSON: ${text.slice(0, 200)}`, { cause });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`tool call ${call.id} (${call.function.name}) has arguments that are not a JSON object: ${text.slice(0, 200)}`);
  }
  return parsed as Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// Responses

export function fromOpenAIResponse(body: OpenAIResponse): CanonicalResponse {
  const choice = body.choices.find((c) => c.index === 0) ?? body.choices[0];
  if (choice === undefined) throw new Error(`OpenAI response ${body.id} has no choices`);
  const { message } = choice;
  const toolCalls = message.tool_calls ?? [];
  const content: CanonicalResponse['content'] = [];
  if (message.content != null && (message.content !== '' || toolCalls.length === 0)) content.push({ type: 'text', text: message.content });
  // A structured-output refusal comes instead of content; the caller still needs its words.
  const refusal = message.refusal ?? '';
  if (refusal !== '') content.push({ type: 'text', text: refusal });
  for (const call of toolCalls) content.push(toolCallFromOpenAI(call));
  return {
    id: body.id,
    model: body.model,
    content,
    stopReason: refusal !== '' ? 'refusal' : toStopReason(choice.finish_reason, toolCalls.length > 0),
    // Compatible servers sometimes leave usage out; zero says "not reported", not a guess.
    usage: body.usage != null ? fromOpenAIUsage(body.usage) : { inputTokens: 0, outputTokens: 0 },
  };
}

/** `created` is now: a canonical response carries no timestamp. */
export function toOpenAIResponse(response: CanonicalResponse, model?: string): OpenAIResponse {
  const texts = response.content.filter((b): b is TextBlock => b.type === 'text');
  const toolCalls: OpenAIToolCall[] = response.content
    .filter((b): b is ToolCallBlock => b.type === 'tool_call')
    .map((b) => ({ id: b.id, type: 'function', function: { name: b.name, arguments: JSON.stringify(b.arguments) } }));
  return {
    id: response.id,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: model ?? response.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: texts.length > 0 ? texts.map((t) => t.text).join('') : null,
          refusal: null,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        logprobs: null,
        finish_reason: toFinishReason(response.stopReason),
      },
    ],
    usage: toOpenAIUsage(response.usage),
  };
}

// ---------------------------------------------------------------------------------------------
// Stop reasons and usage, shared with stream.ts

/**
 * `calledTools` matters because OpenAI answers `stop`, not `tool_calls`, when `tool_choice` names a
 * function; Anthropic-shaped callers decide whether to run tools from the stop reason alone.
 */
export function toStopReason(finish: OpenAIFinishReason, calledTools: boolean): StopReason {
  switch (finish) {
    case 'stop':
      return calledTools ? 'tool_use' : 'end_turn';
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'content_filter';
  }
}

/** Lossy: `stop_sequence` → `stop` and `refusal` → `content_filter`; OpenAI has no closer word. */
export function toFinishReason(stop: StopReason): OpenAIFinishReason {
  switch (stop) {
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'max_tokens':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'content_filter':
    case 'refusal':
      return 'content_filter';
  }
}

/**
 * Canonical usage counts as Anthropic does: `inputTokens` excludes cache reads and writes. OpenAI's
 * `prompt_tokens` includes its cached tokens, so they are taken out here and put back on the way out.
 */
export function fromOpenAIUsage(usage: OpenAIUsage): Usage {
  const cached = usage.prompt_tokens_details?.cached_tokens;
  return {
    inputTokens: Math.max(0, usage.prompt_tokens - (cached ?? 0)),
    outputTokens: usage.completion_tokens,
    ...(cached !== undefined ? { cacheReadTokens: cached } : {}),
  };
}

export function toOpenAIUsage(usage: Usage): OpenAIUsage {
  const prompt = usage.inputTokens + (usage.cacheReadTokens ?? 0) + (usage.cacheWriteTokens ?? 0);
  return {
    prompt_tokens: prompt,
    completion_tokens: usage.outputTokens,
    total_tokens: prompt + usage.outputTokens,
    ...(usage.cacheReadTokens !== undefined ? { prompt_tokens_details: { cached_tokens: usage.cacheReadTokens } } : {}),
  };
}
