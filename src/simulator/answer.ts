/**
 * Deterministic answers. The text depends only on the conversation (never on the vendor or model),
 * so a request failed over mid-stream to another deployment, with the delivered text as an
 * assistant prefill, continues the very same answer, and tests can check it arrived whole.
 */
import type { CanonicalRequest, ContentBlock, StopReason, ToolCallBlock, ToolDefinition } from '../domain/index.js';
import { hashText, seededRandom } from './random.js';

const WORDS = (
  'switchyard routes every request along the fastest healthy track while signals change and ' +
  'vendors slow down or fail then traffic moves across regions and models without losing a single ' +
  'word of the answer that was already on its way to the caller who keeps reading calmly'
).split(' ');

export interface SimAnswer {
  /** Output pieces in order; each is one token, and together they are the text. */
  tokens: string[];
  toolCall?: ToolCallBlock | undefined;
  stopReason: StopReason;
  stopSequence?: string | undefined;
  inputTokens: number;
}

/** The whole answer a conversation gets, before any prefill or limit is applied. */
export function fullAnswerTokens(request: CanonicalRequest, seed: number): string[] {
  const conversation = JSON.stringify([request.system ?? '', stripPrefill(request).messages.map((m) => [m.role, m.content])]);
  const random = seededRandom(hashText(conversation, seed));
  const count = 12 + Math.floor(random() * 36);
  return Array.from({ length: count }, (_, i) => {
    const word = WORDS[Math.floor(random() * WORDS.length)] ?? 'track';
    return i === 0 ? word[0]!.toUpperCase() + word.slice(1) : ` ${word}`;
  }).concat('.');
}

function stripPrefill(request: CanonicalRequest): CanonicalRequest {
  const last = request.messages.at(-1);
  return last?.role === 'assistant' ? { ...request, messages: request.messages.slice(0, -1) } : request;
}

function prefillText(request: CanonicalRequest): string {
  const last = request.messages.at(-1);
  if (last?.role !== 'assistant') return '';
  return last.content.map((b: ContentBlock) => (b.type === 'text' ? b.text : '')).join('');
}

/** About four characters a token, as vendors roughly count English. */
export function estimateInputTokens(request: CanonicalRequest): number {
  return Math.max(1, Math.ceil(JSON.stringify([request.system, request.messages, request.tools]).length / 4));
}

export function answerFor(request: CanonicalRequest, seed: number): SimAnswer {
  const inputTokens = estimateInputTokens(request);
  const toolCall = chooseToolCall(request, seed);
  if (toolCall) return { tokens: [], toolCall, stopReason: 'tool_use', inputTokens };

  let tokens = fullAnswerTokens(request, seed);
  const prefill = prefillText(request);
  if (prefill) {
    // Continue after the delivered text when it is a prefix of this conversation's answer.
    let consumed = '';
    let at = 0;
    while (at < tokens.length && consumed.length < prefill.length) consumed += tokens[at++];
    if (consumed === prefill) tokens = tokens.slice(at);
  }

  let stopReason: StopReason = 'end_turn';
  let stopSequence: string | undefined;
  let text = '';
  for (let i = 0; i < tokens.length; i++) {
    text += tokens[i];
    const hit = request.stopSequences?.find((s) => text.includes(s));
    if (hit) {
      tokens = tokens.slice(0, i);
      stopReason = 'stop_sequence';
      stopSequence = hit;
      break;
    }
  }
  if (tokens.length > request.maxTokens) {
    tokens = tokens.slice(0, request.maxTokens);
    stopReason = 'max_tokens';
  }
  return { tokens, stopReason, stopSequence, inputTokens };
}

/** A tool call when the caller demands one, or when the last user turn names a tool. */
function chooseToolCall(request: CanonicalRequest, seed: number): ToolCallBlock | undefined {
  const tools = request.tools ?? [];
  const last = request.messages.at(-1);
  if (tools.length === 0 || !last || last.role !== 'user' || last.content.some((b) => b.type === 'tool_result')) return undefined;
  const choice = request.toolChoice ?? { type: 'auto' };
  if (choice.type === 'none') return undefined;
  const userText = last.content.map((b) => (b.type === 'text' ? b.text : '')).join(' ');
  const tool =
    choice.type === 'tool'
      ? tools.find((t) => t.name === choice.name)
      : choice.type === 'any'
        ? tools[0]
        : tools.find((t) => userText.includes(t.name));
  if (!tool) return undefined;
  const id = `toolu_sim_${hashText(userText + tool.name, seed).toString(36)}`;
  return { type: 'tool_call', id, name: tool.name, arguments: argumentsFor(tool, userText) };
}

/** Arguments that satisfy the required properties of a simple object schema. */
function argumentsFor(tool: ToolDefinition, userText: string): Record<string, unknown> {
  const schema = tool.inputSchema as { properties?: Record<string, { type?: string; enum?: unknown[] }>; required?: string[] };
  const args: Record<string, unknown> = {};
  for (const name of schema.required ?? []) {
    const property = schema.properties?.[name] ?? {};
    if (property.enum && property.enum.length > 0) args[name] = property.enum[0];
    else if (property.type === 'number' || property.type === 'integer') args[name] = 1;
    else if (property.type === 'boolean') args[name] = true;
    else if (property.type === 'array') args[name] = [];
    else if (property.type === 'object') args[name] = {};
    else args[name] = userText.slice(0, 40) || name;
  }
  return args;
}
