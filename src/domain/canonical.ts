/**
 * The canonical request, response and stream events: what every front door translates into and
 * every vendor adapter translates out of. Rich enough that a request written for Claude can be
 * served by GPT and answered in the caller's shape (text, images, tools, stop reasons, usage).
 * The zod schemas are the single source of the types, and validate them at every boundary.
 */
import { z } from 'zod';
import { REQUEST_LIMITS } from './limits.js';

const JsonObject = z.record(z.string(), z.unknown());

export const TextBlockSchema = z.strictObject({ type: z.literal('text'), text: z.string() });

export const ImageBlockSchema = z.strictObject({
  type: z.literal('image'),
  source: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('base64'), mediaType: z.string().min(1), data: z.string().min(1) }),
    z.strictObject({ kind: z.literal('url'), url: z.url() }),
  ]),
});

export const ToolCallBlockSchema = z.strictObject({
  type: z.literal('tool_call'),
  id: z.string().min(1),
  name: z.string().min(1),
  /** The tool's input, always a JSON object (both vendor families require one). */
  arguments: JsonObject,
});

export const ToolResultBlockSchema = z.strictObject({
  type: z.literal('tool_result'),
  toolCallId: z.string().min(1),
  content: z.array(z.discriminatedUnion('type', [TextBlockSchema, ImageBlockSchema])),
  isError: z.boolean().optional(),
});

export const ContentBlockSchema = z.discriminatedUnion('type', [TextBlockSchema, ImageBlockSchema, ToolCallBlockSchema, ToolResultBlockSchema]);

/**
 * What each role may say, the same at every vendor: only the assistant calls tools, and only the
 * user shows images and returns tool results. Checked here so such a request fails at the door
 * as the caller's mistake, not at the vendor after a round trip, or worse, as a fault to retry.
 */
const ROLE_BLOCKS = { user: ['text', 'image', 'tool_result'], assistant: ['text', 'tool_call'] } as const;

export const MessageSchema = z
  .strictObject({
    role: z.enum(['user', 'assistant']),
    // A plain string is one text block, as the vendors' SDKs take it.
    content: z.union([
      z.string().transform((text): ContentBlock[] => [{ type: 'text', text }]),
      z.array(ContentBlockSchema).min(1).max(REQUEST_LIMITS.maxBlocksPerMessage),
    ]),
  })
  .superRefine((message, ctx) => {
    const allowed: readonly string[] = ROLE_BLOCKS[message.role];
    for (const [index, block] of message.content.entries()) {
      if (allowed.includes(block.type)) continue;
      ctx.addIssue({ code: 'custom', path: ['content', index], message: `a ${message.role} message cannot hold a ${block.type} block; it takes ${allowed.join(', ')}` });
    }
  });

export const ToolDefinitionSchema = z.strictObject({
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, { error: 'expected a tool name of 1-64 letters, digits, _ or -' }),
  description: z.string().optional(),
  /** JSON Schema of the tool's input; an object schema. */
  inputSchema: JsonObject,
});

export const ToolChoiceSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('auto') }),
  z.strictObject({ type: z.literal('any') }),
  z.strictObject({ type: z.literal('none') }),
  z.strictObject({ type: z.literal('tool'), name: z.string().min(1) }),
]);

export const CanonicalRequestSchema = z.strictObject({
  /** The logical model asked for, e.g. claude-sonnet-4. */
  model: z.string().min(1),
  system: z.string().optional(),
  messages: z.array(MessageSchema).min(1).max(REQUEST_LIMITS.maxMessages),
  tools: z.array(ToolDefinitionSchema).max(REQUEST_LIMITS.maxTools).optional(),
  toolChoice: ToolChoiceSchema.optional(),
  maxTokens: z.number().int().positive(),
  temperature: z.number().min(0).max(2).optional(),
  topP: z.number().gt(0).max(1).optional(),
  stopSequences: z.array(z.string().min(1)).max(16).optional(),
  /** An opaque end-user id, passed to vendors that take one for abuse monitoring. */
  user: z.string().optional(),
});

export const STOP_REASONS = ['end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'content_filter', 'refusal'] as const;
export const StopReasonSchema = z.enum(STOP_REASONS);

/**
 * Token counts. `inputTokens` counts the input not read from or written to a prompt cache (as
 * Anthropic reports it); cache reads and writes are counted apart, so OpenAI's `prompt_tokens`,
 * which includes cached tokens, is split on the way in.
 */
export const UsageSchema = z.strictObject({
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  cacheReadTokens: z.number().int().nonnegative().optional(),
  cacheWriteTokens: z.number().int().nonnegative().optional(),
});

export const CanonicalResponseSchema = z.strictObject({
  id: z.string(),
  /** The vendor's model id that answered. */
  model: z.string(),
  content: z.array(z.discriminatedUnion('type', [TextBlockSchema, ToolCallBlockSchema])),
  stopReason: StopReasonSchema,
  stopSequence: z.string().optional(),
  usage: UsageSchema,
});

/**
 * Stream events, in this order: one `start`, then `delta`s and `usage`s, then exactly one `end` or
 * `error`, which is last (usage that a vendor reports late is emitted before the `end`).
 * `delta.index` is the content block the fragment belongs to; tool-call fragments carry id and
 * name on their first fragment and JSON text pieces after it.
 */
export const StreamEventSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('start'), id: z.string(), model: z.string() }),
  z.strictObject({
    type: z.literal('delta'),
    index: z.number().int().nonnegative(),
    delta: z.discriminatedUnion('type', [
      z.strictObject({ type: z.literal('text'), text: z.string() }),
      z.strictObject({
        type: z.literal('tool_call'),
        id: z.string().optional(),
        name: z.string().optional(),
        argumentsJson: z.string(),
      }),
    ]),
  }),
  z.strictObject({ type: z.literal('usage'), usage: UsageSchema.partial() }),
  z.strictObject({ type: z.literal('end'), stopReason: StopReasonSchema, stopSequence: z.string().optional() }),
  z.strictObject({
    type: z.literal('error'),
    error: z.strictObject({ code: z.string(), message: z.string(), retryable: z.boolean().optional() }),
  }),
]);

export type TextBlock = z.infer<typeof TextBlockSchema>;
export type ImageBlock = z.infer<typeof ImageBlockSchema>;
export type ToolCallBlock = z.infer<typeof ToolCallBlockSchema>;
export type ToolResultBlock = z.infer<typeof ToolResultBlockSchema>;
export type ContentBlock = z.infer<typeof ContentBlockSchema>;
export type Message = z.infer<typeof MessageSchema>;
export type ToolDefinition = z.infer<typeof ToolDefinitionSchema>;
export type ToolChoice = z.infer<typeof ToolChoiceSchema>;
export type CanonicalRequest = z.infer<typeof CanonicalRequestSchema>;
/** What a caller may write: message content as a plain string too. */
export type CanonicalRequestInput = z.input<typeof CanonicalRequestSchema>;
export type StopReason = z.infer<typeof StopReasonSchema>;
export type Usage = z.infer<typeof UsageSchema>;
export type CanonicalResponse = z.infer<typeof CanonicalResponseSchema>;
export type StreamEvent = z.infer<typeof StreamEventSchema>;
export type StreamDelta = Extract<StreamEvent, { type: 'delta' }>['delta'];

/** The text of a response or message, tool calls left out. */
export function textOf(content: readonly ContentBlock[]): string {
  return content.map((b) => (b.type === 'text' ? b.text : '')).join('');
}
