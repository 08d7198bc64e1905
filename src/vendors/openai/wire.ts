/**
 * The OpenAI Chat Completions wire format (and Azure OpenAI's dialect of it): request body, response, stream chunk and error envelope. The zod schemas are the single
 * source of these types. What comes from a vendor is read leniently (unknown keys are dropped, so a
 * new field never breaks a working deployment); what a caller sends to our gateway is read strictly
 * (see OpenAIRequestSchema).
 */
import { z } from 'zod';

const JsonObject = z.record(z.string(), z.unknown());

// ---------------------------------------------------------------------------------------------
// Request

export const TextPartSchema = z.strictObject({ type: z.literal('text'), text: z.string() });

export const ImageUrlPartSchema = z.strictObject({
  type: z.literal('image_url'),
  image_url: z.strictObject({
    /** An https URL or a `data:<media type>;base64,<data>` URL. */
    url: z.string().min(1),
    detail: z.enum(['auto', 'low', 'high']).optional(),
  }),
});

/** Only assistant turns carry it: the model's structured-output refusal, echoed back by SDK users. */
export const RefusalPartSchema = z.strictObject({ type: z.literal('refusal'), refusal: z.string() });

export const ToolCallSchema = z.strictObject({
  id: z.string().min(1),
  type: z.literal('function'),
  function: z.strictObject({
    name: z.string().min(1),
    /** The tool's input as JSON text, exactly as the model wrote it (not guaranteed to parse). */
    arguments: z.string(),
  }),
});

/** `name` is a participant label OpenAI accepts on every role; no other vendor has a place for it. */
const Name = z.string().optional();

export const SystemMessageSchema = z.strictObject({
  role: z.enum(['system', 'developer']),
  content: z.union([z.string(), z.array(TextPartSchema)]),
  name: Name,
});

export const UserMessageSchema = z.strictObject({
  role: z.literal('user'),
  content: z.union([z.string(), z.array(z.discriminatedUnion('type', [TextPartSchema, ImageUrlPartSchema]))]),
  name: Name,
});

export const AssistantMessageSchema = z.strictObject({
  role: z.literal('assistant'),
  content: z.union([z.string(), z.array(z.discriminatedUnion('type', [TextPartSchema, RefusalPartSchema]))]).nullish(),
  tool_calls: z.array(ToolCallSchema).nullish(),
  name: Name,
  // SDK users append `completion.choices[0].message` to the history as it came back; these keys
  // ride along with it (null or empty) and must not turn a valid conversation into a 400.
  refusal: z.string().nullish(),
  annotations: z.array(z.unknown()).nullish(),
  audio: z.null().optional(),
  function_call: z.null().optional(),
});

export const ToolMessageSchema = z.strictObject({
  role: z.literal('tool'),
  tool_call_id: z.string().min(1),
  content: z.union([z.string(), z.array(TextPartSchema)]),
});

export const ChatMessageSchema = z.discriminatedUnion('role', [
  SystemMessageSchema,
  UserMessageSchema,
  AssistantMessageSchema,
  ToolMessageSchema,
]);

export const ToolSchema = z.strictObject({
  type: z.literal('function'),
  function: z.strictObject({
    name: z.string().min(1),
    description: z.string().optional(),
    /** JSON Schema of the input; OpenAI lets a function without inputs leave it out. */
    parameters: JsonObject.optional(),
    strict: z.boolean().nullish(),
  }),
});

export const ToolChoiceOptionSchema = z.union([
  z.enum(['auto', 'none', 'required']),
  z.strictObject({ type: z.literal('function'), function: z.strictObject({ name: z.string().min(1) }) }),
]);

/**
 * Fields OpenAI defines that a request may carry but that no canonical field holds. SDKs and agent
 * frameworks send several of them by default (`parallel_tool_calls`, `store`, `seed`, penalties),
 * and dropping any of them still yields an answer of the shape the caller expects, so they are
 * accepted and ignored. Fields whose loss would change the shape of the answer (`n` > 1, `audio`,
 * `modalities`, legacy `functions`, `prediction`, `web_search_options`) are not listed: the
 * strict schema rejects them, and the caller learns of it instead of getting a different answer.
 */
const KNOWN_BUT_IGNORED = {
  frequency_penalty: z.number().nullish(),
  presence_penalty: z.number().nullish(),
  logit_bias: z.record(z.string(), z.number()).nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().nullish(),
  seed: z.number().int().nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  // Accepted because SDK helpers send it on every call; the caller gets text that was not
  // constrained to the format, which its own parser reports, rather than a blanket 400.
  response_format: JsonObject.nullish(),
  store: z.boolean().nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  service_tier: z.string().nullish(),
  reasoning_effort: z.string().nullish(),
  verbosity: z.string().nullish(),
  prompt_cache_key: z.string().nullish(),
  prompt_cache_retention: z.string().nullish(),
};

/**
 * A Chat Completions request body. Strict: an unknown key is nearly always a feature this router
 * would silently drop (or a typo such as `max_token` that would silently fall back to a default),
 * so a caller is told rather than served something else. Optional fields accept `null` because
 * the OpenAI SDKs type them `T | null` and pass nulls through.
 */
export const OpenAIRequestSchema = z.strictObject({
  /** Azure's classic per-deployment URL ignores it, but our gateway needs it to pick a route. */
  model: z.string().min(1),
  messages: z.array(ChatMessageSchema).min(1),
  max_tokens: z.number().int().positive().nullish(),
  /** The newer name of `max_tokens`; reasoning models accept only this one. */
  max_completion_tokens: z.number().int().positive().nullish(),
  temperature: z.number().nullish(),
  top_p: z.number().nullish(),
  n: z.number().int().positive().nullish(),
  stop: z.union([z.string(), z.array(z.string())]).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z
    .strictObject({ include_usage: z.boolean().optional(), include_obfuscation: z.boolean().optional() })
    .nullish(),
  tools: z.array(ToolSchema).optional(),
  tool_choice: ToolChoiceOptionSchema.optional(),
  user: z.string().nullish(),
  /** OpenAI's successor of `user`; read as `user` when that is absent. */
  safety_identifier: z.string().nullish(),
  ...KNOWN_BUT_IGNORED,
});

// ---------------------------------------------------------------------------------------------
// Response (lenient: z.object drops keys it does not know, e.g. Azure's content_filter_results)

export const FINISH_REASONS = ['stop', 'length', 'tool_calls', 'content_filter', 'function_call'] as const;
export const FinishReasonSchema = z.enum(FINISH_REASONS);

export const UsageSchema = z.object({
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
  total_tokens: z.number().int().nonnegative(),
  /** Cached tokens are part of `prompt_tokens`, not in addition to them. */
  prompt_tokens_details: z.object({ cached_tokens: z.number().int().nonnegative().optional() }).nullish(),
  completion_tokens_details: z.object({ reasoning_tokens: z.number().int().nonnegative().optional() }).nullish(),
});

export const ResponseToolCallSchema = z.object({
  id: z.string(),
  type: z.literal('function'),
  function: z.object({ name: z.string(), arguments: z.string() }),
});

export const OpenAIResponseSchema = z.object({
  id: z.string(),
  object: z.string().optional(),
  created: z.number(),
  model: z.string(),
  system_fingerprint: z.string().nullish(),
  choices: z.array(
    z.object({
      index: z.number().int().nonnegative(),
      message: z.object({
        role: z.literal('assistant'),
        content: z.string().nullish(),
        refusal: z.string().nullish(),
        tool_calls: z.array(ResponseToolCallSchema).nullish(),
      }),
      logprobs: z.unknown().optional(),
      finish_reason: FinishReasonSchema,
    }),
  ),
  usage: UsageSchema.nullish(),
});

// ---------------------------------------------------------------------------------------------
// Stream chunk (lenient as the response; every field an Azure or compatible server may null out is nullish)

export const ChunkToolCallSchema = z.object({
  /** Which tool call this fragment extends; the same index across the fragments of one call. */
  index: z.number().int().nonnegative(),
  id: z.string().nullish(),
  type: z.literal('function').nullish(),
  function: z.object({ name: z.string().nullish(), arguments: z.string().nullish() }).nullish(),
});

export const OpenAIChunkSchema = z.object({
  /** '' on Azure's first chunk, which carries only prompt_filter_results. */
  id: z.string(),
  object: z.string().optional(),
  created: z.number(),
  /** May be '' on Azure. */
  model: z.string(),
  system_fingerprint: z.string().nullish(),
  /** Empty on Azure's first chunk and on the usage chunk. */
  choices: z.array(
    z.object({
      index: z.number().int().nonnegative(),
      /** Azure's asynchronous content filter sends choices with annotations and no delta. */
      delta: z
        .object({
          role: z.string().nullish(),
          content: z.string().nullish(),
          refusal: z.string().nullish(),
          tool_calls: z.array(ChunkToolCallSchema).nullish(),
        })
        .optional(),
      logprobs: z.unknown().optional(),
      finish_reason: FinishReasonSchema.nullish(),
    }),
  ),
  usage: UsageSchema.nullish(),
});

// ---------------------------------------------------------------------------------------------
// Errors

export const OpenAIErrorEnvelopeSchema = z.object({
  error: z.object({
    message: z.string(),
    type: z.string().nullish(),
    param: z.string().nullish(),
    // Azure sends the HTTP status as a string ("429"); some compatible servers send it as a number.
    code: z.union([z.string(), z.number()]).nullish(),
    /** Azure's detail, e.g. `ResponsibleAIPolicyViolation` on a content-filter 400. */
    innererror: z.object({ code: z.string().optional() }).nullish(),
  }),
});

export type OpenAITextPart = z.infer<typeof TextPartSchema>;
export type OpenAIImageUrlPart = z.infer<typeof ImageUrlPartSchema>;
export type OpenAIToolCall = z.infer<typeof ToolCallSchema>;
export type OpenAIChatMessage = z.infer<typeof ChatMessageSchema>;
export type OpenAISystemMessage = z.infer<typeof SystemMessageSchema>;
export type OpenAIUserMessage = z.infer<typeof UserMessageSchema>;
export type OpenAIAssistantMessage = z.infer<typeof AssistantMessageSchema>;
export type OpenAIToolMessage = z.infer<typeof ToolMessageSchema>;
export type OpenAITool = z.infer<typeof ToolSchema>;
export type OpenAIToolChoice = z.infer<typeof ToolChoiceOptionSchema>;
export type OpenAIRequest = z.infer<typeof OpenAIRequestSchema>;
export type OpenAIFinishReason = z.infer<typeof FinishReasonSchema>;
export type OpenAIUsage = z.infer<typeof UsageSchema>;
export type OpenAIResponse = z.infer<typeof OpenAIResponseSchema>;
export type OpenAIChunk = z.infer<typeof OpenAIChunkSchema>;
export type OpenAIErrorEnvelope = z.infer<typeof OpenAIErrorEnvelopeSchema>;
