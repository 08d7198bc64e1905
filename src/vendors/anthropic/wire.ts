/**
 * The Anthropic Messages API on the wire: request body, response,
 * stream events and the error envelope, as zod schemas that are the single source of their types.
 * The same body goes to Anthropic, Bedrock and Vertex (each adapter adds or drops its own fields).
 *
 * Strictness follows who wrote the JSON. Requests come from callers and Anthropic itself refuses
 * unknown top-level fields, so the request schema does too. Responses and stream events come from
 * vendors that keep adding fields, so those schemas strip what they do not know instead of failing.
 * The request's value limits mirror the canonical schema, so every body this schema accepts
 * translates to a valid canonical request.
 */
import { z } from 'zod';

const JsonObject = z.record(z.string(), z.unknown());

/**
 * Prompt-caching markers and citations ride on blocks and tools in real client traffic. They only
 * tune Anthropic's own billing and rendering, so nested objects strip unknown keys: refusing them
 * would turn away requests the official SDKs send.
 */
const Ignored = z.unknown().optional();

export const AnthropicTextBlockSchema = z.object({ type: z.literal('text'), text: z.string(), cache_control: Ignored });

export const AnthropicImageBlockSchema = z.object({
  type: z.literal('image'),
  source: z.discriminatedUnion('type', [
    // The vendor decides which media types it takes; the router only carries them.
    z.object({ type: z.literal('base64'), media_type: z.string().min(1), data: z.string().min(1) }),
    z.object({ type: z.literal('url'), url: z.url() }),
  ]),
  cache_control: Ignored,
});

export const AnthropicToolUseBlockSchema = z.object({
  type: z.literal('tool_use'),
  id: z.string().min(1),
  name: z.string().min(1),
  input: JsonObject,
  cache_control: Ignored,
});

export const AnthropicToolResultBlockSchema = z.object({
  type: z.literal('tool_result'),
  tool_use_id: z.string().min(1),
  content: z
    .union([z.string(), z.array(z.discriminatedUnion('type', [AnthropicTextBlockSchema, AnthropicImageBlockSchema]))])
    .optional(),
  is_error: z.boolean().optional(),
  cache_control: Ignored,
});

export const AnthropicRequestBlockSchema = z.discriminatedUnion('type', [
  AnthropicTextBlockSchema,
  AnthropicImageBlockSchema,
  AnthropicToolUseBlockSchema,
  AnthropicToolResultBlockSchema,
]);

export const AnthropicMessageSchema = z.object({
  role: z.enum(['user', 'assistant']),
  content: z.union([z.string(), z.array(AnthropicRequestBlockSchema).min(1)]),
});

export const AnthropicToolSchema = z.object({
  /** Client tools may say `custom`; server tools (web search, code execution) have other types and no input schema. */
  type: z.literal('custom').optional(),
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, { error: 'expected a tool name of 1-64 letters, digits, _ or -' }),
  description: z.string().optional(),
  input_schema: JsonObject,
  cache_control: Ignored,
});

/** `disable_parallel_tool_use` is accepted and dropped: the canonical request cannot say it. */
const ParallelFlag = { disable_parallel_tool_use: z.boolean().optional() };

export const AnthropicToolChoiceSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('auto'), ...ParallelFlag }),
  z.object({ type: z.literal('any'), ...ParallelFlag }),
  z.object({ type: z.literal('none') }),
  z.object({ type: z.literal('tool'), name: z.string().min(1), ...ParallelFlag }),
]);

export const AnthropicRequestSchema = z.strictObject(
  {
    /** Required by the first-party API; Bedrock and Vertex take the model from the URL (parse those with `.omit({ model: true })`). */
    model: z.string().min(1),
    max_tokens: z.number().int().positive(),
    messages: z.array(AnthropicMessageSchema).min(1),
    system: z.union([z.string(), z.array(AnthropicTextBlockSchema)]).optional(),
    temperature: z.number().min(0).max(1).optional(),
    top_p: z.number().gt(0).max(1).optional(),
    top_k: z.number().int().nonnegative().optional(),
    stop_sequences: z.array(z.string().min(1)).max(16).optional(),
    stream: z.boolean().optional(),
    metadata: z.strictObject({ user_id: z.string().nullish() }).optional(),
    tools: z.array(AnthropicToolSchema).optional(),
    tool_choice: AnthropicToolChoiceSchema.optional(),

    // Known but ignored. Each changes how Anthropic produces the answer (or where the body went),
    // never what a correct answer is, so serving the request without it is still honest.
    /** Extended thinking: the canonical form cannot carry thinking blocks, so the answer comes without them. */
    thinking: z.looseObject({ type: z.string() }).optional(),
    /** A priority hint; the router decides capacity itself. */
    service_tier: z.string().optional(),
    /** Bedrock and Vertex put the API version in the body instead of a header. */
    anthropic_version: z.string().optional(),
    /** Bedrock's body spelling of the anthropic-beta header; betas are not forwarded either way. */
    anthropic_beta: z.array(z.string()).optional(),
    /** Reuses a code-execution container; meaningless without server tools, which the tool schema refuses. Its shape has changed across API versions. */
    container: z.unknown().optional(),
    /**
     * Remote MCP servers would give the model tools the router cannot provide, so silently dropping
     * them would change the answer. Accepted only when empty, as some clients always send the key.
     */
    mcp_servers: z
      .array(z.unknown())
      .max(0, { error: 'mcp_servers is not supported: the router cannot connect the model to MCP servers; pass the tools in `tools` instead' })
      .optional(),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown request field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}: the Messages API refuses fields it does not know`
        : undefined,
  },
);

export const ANTHROPIC_STOP_REASONS = [
  'end_turn',
  'max_tokens',
  'stop_sequence',
  'tool_use',
  'pause_turn',
  'refusal',
  'model_context_window_exceeded',
] as const;
export type AnthropicStopReason = (typeof ANTHROPIC_STOP_REASONS)[number];

export const AnthropicUsageSchema = z.object({
  input_tokens: z.number().int().nonnegative(),
  output_tokens: z.number().int().nonnegative(),
  cache_creation_input_tokens: z.number().int().nonnegative().nullish(),
  cache_read_input_tokens: z.number().int().nonnegative().nullish(),
});

const KNOWN_RESPONSE_BLOCKS: readonly string[] = ['text', 'tool_use'];

/**
 * Thinking, server-tool and future block types: parsed so the response still validates, then left
 * out of the canonical response. The refinement keeps a broken text or tool_use block from hiding here.
 */
export const AnthropicOtherBlockSchema = z.looseObject({
  type: z.string().refine((t) => !KNOWN_RESPONSE_BLOCKS.includes(t), { error: 'a text or tool_use block of the wrong shape' }),
});

export const AnthropicResponseTextBlockSchema = z.object({ type: z.literal('text'), text: z.string() });

export const AnthropicResponseToolUseBlockSchema = z.object({
  type: z.literal('tool_use'),
  id: z.string().min(1),
  name: z.string().min(1),
  input: JsonObject,
});

export const AnthropicResponseBlockSchema = z.union([
  AnthropicResponseTextBlockSchema,
  AnthropicResponseToolUseBlockSchema,
  AnthropicOtherBlockSchema,
]);

/** Narrowing helpers: the catch-all member's `type: string` keeps TypeScript from narrowing on `type` alone. */
export function isTextBlock(block: AnthropicResponseBlock): block is AnthropicResponseTextBlock {
  return block.type === 'text';
}

export function isToolUseBlock(block: AnthropicResponseBlock): block is AnthropicResponseToolUseBlock {
  return block.type === 'tool_use';
}

export const AnthropicResponseSchema = z.object({
  id: z.string(),
  type: z.literal('message'),
  role: z.literal('assistant'),
  model: z.string(),
  content: z.array(AnthropicResponseBlockSchema),
  /** A plain string: a stop reason added after this was written must not make a good answer unreadable. */
  stop_reason: z.string().nullable(),
  stop_sequence: z.string().nullish(),
  usage: AnthropicUsageSchema,
});

export const AnthropicErrorBodySchema = z.object({
  /** A growing set (`overloaded_error`, `rate_limit_error`, ...), so any string. */
  type: z.string(),
  message: z.string(),
  /** `error_code: enforced_spend_limit_reached` tells a spent monthly cap from a passing rate limit. */
  details: z.looseObject({ error_code: z.string().optional() }).nullish(),
});

export const AnthropicErrorSchema = z.object({
  type: z.literal('error'),
  error: AnthropicErrorBodySchema,
  request_id: z.string().nullish(),
});

export const MessageStartEventSchema = z.object({
  type: z.literal('message_start'),
  message: AnthropicResponseSchema,
});

export const ContentBlockStartEventSchema = z.object({
  type: z.literal('content_block_start'),
  index: z.number().int().nonnegative(),
  content_block: AnthropicResponseBlockSchema,
});

export const TextDeltaSchema = z.object({ type: z.literal('text_delta'), text: z.string() });
export const InputJsonDeltaSchema = z.object({ type: z.literal('input_json_delta'), partial_json: z.string() });

export const ContentBlockDeltaEventSchema = z.object({
  type: z.literal('content_block_delta'),
  index: z.number().int().nonnegative(),
  delta: z.union([
    TextDeltaSchema,
    InputJsonDeltaSchema,
    // thinking_delta, signature_delta, citations_delta and whatever comes next.
    z.looseObject({
      type: z.string().refine((t) => t !== 'text_delta' && t !== 'input_json_delta', { error: 'a text or JSON delta of the wrong shape' }),
    }),
  ]),
});

export const ContentBlockStopEventSchema = z.object({
  type: z.literal('content_block_stop'),
  index: z.number().int().nonnegative(),
});

export const MessageDeltaEventSchema = z.object({
  type: z.literal('message_delta'),
  delta: z.object({ stop_reason: z.string().nullish(), stop_sequence: z.string().nullish() }),
  /** `output_tokens` is the cumulative total; newer streams repeat the input and cache counts. */
  usage: z.object({
    output_tokens: z.number().int().nonnegative(),
    input_tokens: z.number().int().nonnegative().nullish(),
    cache_creation_input_tokens: z.number().int().nonnegative().nullish(),
    cache_read_input_tokens: z.number().int().nonnegative().nullish(),
  }),
});

export const MessageStopEventSchema = z.object({ type: z.literal('message_stop') });

export const PingEventSchema = z.object({ type: z.literal('ping') });

export const AnthropicStreamEventSchema = z.discriminatedUnion('type', [
  MessageStartEventSchema,
  ContentBlockStartEventSchema,
  ContentBlockDeltaEventSchema,
  ContentBlockStopEventSchema,
  MessageDeltaEventSchema,
  MessageStopEventSchema,
  PingEventSchema,
  AnthropicErrorSchema,
]);

export type AnthropicTextBlock = z.infer<typeof AnthropicTextBlockSchema>;
export type AnthropicImageBlock = z.infer<typeof AnthropicImageBlockSchema>;
export type AnthropicToolUseBlock = z.infer<typeof AnthropicToolUseBlockSchema>;
export type AnthropicToolResultBlock = z.infer<typeof AnthropicToolResultBlockSchema>;
export type AnthropicRequestBlock = z.infer<typeof AnthropicRequestBlockSchema>;
export type AnthropicMessage = z.infer<typeof AnthropicMessageSchema>;
export type AnthropicTool = z.infer<typeof AnthropicToolSchema>;
export type AnthropicToolChoice = z.infer<typeof AnthropicToolChoiceSchema>;
export type AnthropicRequest = z.infer<typeof AnthropicRequestSchema>;
export type AnthropicUsage = z.infer<typeof AnthropicUsageSchema>;
export type AnthropicResponseTextBlock = z.infer<typeof AnthropicResponseTextBlockSchema>;
export type AnthropicResponseToolUseBlock = z.infer<typeof AnthropicResponseToolUseBlockSchema>;
export type AnthropicResponseBlock = z.infer<typeof AnthropicResponseBlockSchema>;
export type AnthropicResponse = z.infer<typeof AnthropicResponseSchema>;
export type AnthropicErrorBody = z.infer<typeof AnthropicErrorBodySchema>;
export type AnthropicError = z.infer<typeof AnthropicErrorSchema>;
export type MessageStartEvent = z.infer<typeof MessageStartEventSchema>;
export type ContentBlockStartEvent = z.infer<typeof ContentBlockStartEventSchema>;
export type TextDelta = z.infer<typeof TextDeltaSchema>;
export type InputJsonDelta = z.infer<typeof InputJsonDeltaSchema>;
export type ContentBlockDeltaEvent = z.infer<typeof ContentBlockDeltaEventSchema>;
export type ContentBlockStopEvent = z.infer<typeof ContentBlockStopEventSchema>;
export type MessageDeltaEvent = z.infer<typeof MessageDeltaEventSchema>;
export type AnthropicStreamEvent = z.infer<typeof AnthropicStreamEventSchema>;
export type AnthropicBlockDelta = ContentBlockDeltaEvent['delta'];

export function isTextDelta(delta: AnthropicBlockDelta): delta is TextDelta {
  return delta.type === 'text_delta';
}

export function isInputJsonDelta(delta: AnthropicBlockDelta): delta is InputJsonDelta {
  return delta.type === 'input_json_delta';
}
