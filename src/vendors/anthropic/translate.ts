/**
 * Translation between the canonical request and response and the Anthropic Messages API body, both
 * ways: adapters for Anthropic, Bedrock and Vertex send `toAnthropicRequest` and read
 * `fromAnthropicResponse`; the simulator and the gateway read `fromAnthropicRequest` and answer
 * with `toAnthropicResponse`.
 *
 * What does not survive a trip (everything else does, property-tested):
 * - Anthropic → canonical: `top_k`, `stream`, `disable_parallel_tool_use`, `cache_control`, the
 *   ignored top-level fields (see wire.ts), the boundaries between system blocks (joined with a
 *   blank line), the difference between string content and one text block, response blocks other
 *   than text and tool_use (thinking, server tools), and the stop reasons below.
 * - canonical → Anthropic: a temperature above 1 is clamped to 1 (OpenAI's scale goes to 2,
 *   Anthropic's stops at 1, and a value every Anthropic deployment refuses would end the request
 *   instead of serving it as close as Anthropic can); `content_filter` becomes `refusal`.
 */
import type {
  CanonicalRequest,
  CanonicalResponse,
  ContentBlock,
  ImageBlock,
  Message,
  StopReason,
  TextBlock,
  ToolChoice,
  Usage,
} from '../../domain/index.js';
import type {
  AnthropicImageBlock,
  AnthropicMessage,
  AnthropicRequest,
  AnthropicRequestBlock,
  AnthropicResponse,
  AnthropicResponseBlock,
  AnthropicStopReason,
  AnthropicToolChoice,
  AnthropicUsage,
} from './wire.js';
import { isTextBlock, isToolUseBlock } from './wire.js';

/**
 * Lossy cases: `pause_turn` (a server-tool turn Anthropic paused; the router offers no server tools,
 * so the turn is as finished as it will get) reads as `end_turn`; `model_context_window_exceeded`
 * (generation ran into the context window) reads as `max_tokens`, the canonical "cut off by a
 * length limit". A stop reason newer than this table also reads as `end_turn`, and a missing one
 * (only in stream openings) too. Going back, `content_filter` becomes `refusal`, Anthropic's only
 * way to say the content was declined.
 */
const FROM_ANTHROPIC_STOP: Record<AnthropicStopReason, StopReason> = {
  end_turn: 'end_turn',
  max_tokens: 'max_tokens',
  stop_sequence: 'stop_sequence',
  tool_use: 'tool_use',
  refusal: 'refusal',
  pause_turn: 'end_turn',
  model_context_window_exceeded: 'max_tokens',
};

const TO_ANTHROPIC_STOP: Record<StopReason, AnthropicStopReason> = {
  end_turn: 'end_turn',
  max_tokens: 'max_tokens',
  stop_sequence: 'stop_sequence',
  tool_use: 'tool_use',
  content_filter: 'refusal',
  refusal: 'refusal',
};

export function fromAnthropicStopReason(reason: string | null | undefined): StopReason {
  return reason != null && Object.hasOwn(FROM_ANTHROPIC_STOP, reason) ? FROM_ANTHROPIC_STOP[reason as AnthropicStopReason] : 'end_turn';
}

export function toAnthropicStopReason(reason: StopReason): AnthropicStopReason {
  return TO_ANTHROPIC_STOP[reason];
}

/** Separates system blocks when they become one canonical string: they are usually separate paragraphs. */
export const SYSTEM_BLOCK_SEPARATOR = '\n\n';

const ANTHROPIC_MAX_TEMPERATURE = 1;

// ---------------------------------------------------------------------------------------- requests

export function toAnthropicRequest(request: CanonicalRequest, vendorModelId: string, options?: { stream?: boolean }): AnthropicRequest {
  const body: AnthropicRequest = {
    model: vendorModelId,
    max_tokens: request.maxTokens,
    messages: request.messages.map(toAnthropicMessage),
  };
  if (request.system !== undefined) body.system = request.system;
  if (request.temperature !== undefined) body.temperature = Math.min(request.temperature, ANTHROPIC_MAX_TEMPERATURE);
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.stopSequences !== undefined) body.stop_sequences = request.stopSequences;
  if (options?.stream !== undefined) body.stream = options.stream;
  if (request.user !== undefined) body.metadata = { user_id: request.user };
  if (request.tools !== undefined) {
    body.tools = request.tools.map((tool) => ({
      name: tool.name,
      ...(tool.description !== undefined && { description: tool.description }),
      input_schema: tool.inputSchema,
    }));
  }
  if (request.toolChoice !== undefined) body.tool_choice = toAnthropicToolChoice(request.toolChoice);
  return body;
}

function toAnthropicMessage(message: Message): AnthropicMessage {
  return { role: message.role, content: message.content.map(toAnthropicBlock) };
}

function toAnthropicBlock(block: ContentBlock): AnthropicRequestBlock {
  switch (block.type) {
    case 'text':
      return { type: 'text', text: block.text };
    case 'image':
      return toAnthropicImage(block);
    case 'tool_call':
      return { type: 'tool_use', id: block.id, name: block.name, input: block.arguments };
    case 'tool_result':
      return {
        type: 'tool_result',
        tool_use_id: block.toolCallId,
        // An empty result goes without `content`, the spelling Anthropic documents for "no output".
        ...(block.content.length > 0 && {
          content: block.content.map((part) => (part.type === 'text' ? { type: 'text' as const, text: part.text } : toAnthropicImage(part))),
        }),
        ...(block.isError !== undefined && { is_error: block.isError }),
      };
  }
}

function toAnthropicImage(block: ImageBlock): AnthropicImageBlock {
  const source = block.source;
  return {
    type: 'image',
    source:
      source.kind === 'base64'
        ? { type: 'base64', media_type: source.mediaType, data: source.data }
        : { type: 'url', url: source.url },
  };
}

function toAnthropicToolChoice(choice: ToolChoice): AnthropicToolChoice {
  return choice.type === 'tool' ? { type: 'tool', name: choice.name } : { type: choice.type };
}

export function fromAnthropicRequest(body: AnthropicRequest): CanonicalRequest {
  const request: CanonicalRequest = {
    model: body.model,
    messages: body.messages.map(fromAnthropicMessage),
    maxTokens: body.max_tokens,
  };
  if (body.system !== undefined) {
    request.system = typeof body.system === 'string' ? body.system : body.system.map((block) => block.text).join(SYSTEM_BLOCK_SEPARATOR);
  }
  if (body.tools !== undefined) {
    request.tools = body.tools.map((tool) => ({
      name: tool.name,
      ...(tool.description !== undefined && { description: tool.description }),
      inputSchema: tool.input_schema,
    }));
  }
  if (body.tool_choice !== undefined) request.toolChoice = fromAnthropicToolChoice(body.tool_choice);
  if (body.temperature !== undefined) request.temperature = body.temperature;
  if (body.top_p !== undefined) request.topP = body.top_p;
  if (body.stop_sequences !== undefined) request.stopSequences = body.stop_sequences;
  if (body.metadata?.user_id != null) request.user = body.metadata.user_id;
  return request;
}

function fromAnthropicMessage(message: AnthropicMessage): Message {
  const content = typeof message.content === 'string' ? [textBlock(message.content)] : message.content.map(fromAnthropicBlock);
  return { role: message.role, content };
}

function fromAnthropicBlock(block: AnthropicRequestBlock): ContentBlock {
  switch (block.type) {
    case 'text':
      return textBlock(block.text);
    case 'image':
      return fromAnthropicImage(block);
    case 'tool_use':
      return { type: 'tool_call', id: block.id, name: block.name, arguments: block.input };
    case 'tool_result': {
      const content =
        block.content === undefined
          ? []
          : typeof block.content === 'string'
            ? [textBlock(block.content)]
            : block.content.map((part) => (part.type === 'text' ? textBlock(part.text) : fromAnthropicImage(part)));
      return {
        type: 'tool_result',
        toolCallId: block.tool_use_id,
        content,
        ...(block.is_error !== undefined && { isError: block.is_error }),
      };
    }
  }
}

function fromAnthropicImage(block: AnthropicImageBlock): ImageBlock {
  const source = block.source;
  return {
    type: 'image',
    source: source.type === 'base64' ? { kind: 'base64', mediaType: source.media_type, data: source.data } : { kind: 'url', url: source.url },
  };
}

function fromAnthropicToolChoice(choice: AnthropicToolChoice): ToolChoice {
  return choice.type === 'tool' ? { type: 'tool', name: choice.name } : { type: choice.type };
}

function textBlock(text: string): TextBlock {
  return { type: 'text', text };
}

// --------------------------------------------------------------------------------------- responses

export function fromAnthropicResponse(body: AnthropicResponse): CanonicalResponse {
  const response: CanonicalResponse = {
    id: body.id,
    model: body.model,
    content: body.content.flatMap((block): CanonicalResponse['content'] => {
      if (isTextBlock(block)) return [textBlock(block.text)];
      if (isToolUseBlock(block)) return [{ type: 'tool_call', id: block.id, name: block.name, arguments: block.input }];
      return [];
    }),
    stopReason: fromAnthropicStopReason(body.stop_reason),
    usage: fromAnthropicUsage(body.usage),
  };
  if (body.stop_sequence != null) response.stopSequence = body.stop_sequence;
  return response;
}

export function toAnthropicResponse(response: CanonicalResponse, model?: string): AnthropicResponse {
  return {
    id: response.id,
    type: 'message',
    role: 'assistant',
    model: model ?? response.model,
    content: response.content.map(
      (block): AnthropicResponseBlock =>
        block.type === 'text'
          ? { type: 'text', text: block.text }
          : { type: 'tool_use', id: block.id, name: block.name, input: block.arguments },
    ),
    stop_reason: toAnthropicStopReason(response.stopReason),
    stop_sequence: response.stopSequence ?? null,
    usage: toAnthropicUsage(response.usage),
  };
}

/**
 * Cache counts map one to one. Anthropic's `input_tokens` excludes cached tokens; it is carried
 * as is, so canonical `inputTokens` from Anthropic means uncached input.
 */
export function fromAnthropicUsage(usage: AnthropicUsage): Usage {
  return {
    inputTokens: usage.input_tokens,
    outputTokens: usage.output_tokens,
    ...(usage.cache_read_input_tokens != null && { cacheReadTokens: usage.cache_read_input_tokens }),
    ...(usage.cache_creation_input_tokens != null && { cacheWriteTokens: usage.cache_creation_input_tokens }),
  };
}

export function toAnthropicUsage(usage: Usage): AnthropicUsage {
  return {
    input_tokens: usage.inputTokens,
    output_tokens: usage.outputTokens,
    ...(usage.cacheReadTokens !== undefined && { cache_read_input_tokens: usage.cacheReadTokens }),
    ...(usage.cacheWriteTokens !== undefined && { cache_creation_input_tokens: usage.cacheWriteTokens }),
  };
}
