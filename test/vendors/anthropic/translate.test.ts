import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CanonicalRequestSchema, CanonicalResponseSchema, STOP_REASONS, type CanonicalRequest } from '../../../src/domain/index.js';
import {
  fromAnthropicRequest,
  fromAnthropicResponse,
  fromAnthropicStopReason,
  toAnthropicRequest,
  toAnthropicResponse,
  toAnthropicStopReason,
} from '../../../src/vendors/anthropic/translate.js';
import { ANTHROPIC_STOP_REASONS, AnthropicRequestSchema, AnthropicResponseSchema } from '../../../src/vendors/anthropic/wire.js';

function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../../fixtures/anthropic/${name}`, import.meta.url), 'utf8'));
}

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'Get the current weather in a given location',
  input_schema: {
    type: 'object',
    properties: { location: { type: 'string', description: 'The city and state, e.g. San Francisco, CA' } },
    required: ['location'],
  },
};

/** A tool conversation as an Anthropic client sends it: tool use, tool results with images and errors. */
const TOOL_CONVERSATION = {
  model: 'claude-sonnet-4-20250514',
  max_tokens: 1024,
  system: [
    { type: 'text', text: 'You are a weather assistant.' },
    { type: 'text', text: 'Answer in one sentence.', cache_control: { type: 'ephemeral' } },
  ],
  tools: [WEATHER_TOOL, { name: 'get_map', input_schema: { type: 'object' }, cache_control: { type: 'ephemeral' } }],
  tool_choice: { type: 'auto', disable_parallel_tool_use: true },
  messages: [
    { role: 'user', content: 'What is the weather like in San Francisco? Here is where I am:' },
    {
      role: 'assistant',
      content: [
        { type: 'text', text: 'Let me check.' },
        { type: 'tool_use', id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', input: { location: 'San Francisco, CA' } },
        { type: 'tool_use', id: 'toolu_01B', name: 'get_map', input: {} },
      ],
    },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_01A09q90qw90lq917835lq9', content: '15 degrees' },
        {
          type: 'tool_result',
          tool_use_id: 'toolu_01B',
          content: [
            { type: 'text', text: 'map:' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
          ],
          is_error: false,
        },
        { type: 'tool_result', tool_use_id: 'toolu_01C', is_error: true },
        { type: 'image', source: { type: 'url', url: 'https://upload.wikimedia.org/wikipedia/commons/a/a7/Camponotus_flavomarginatus_ant.jpg' } },
      ],
    },
  ],
};

describe('fromAnthropicRequest', () => {
  it('reads the documented body, keeping what the canonical form says and dropping the rest', () => {
    const body = AnthropicRequestSchema.parse({
      model: 'claude-sonnet-4-20250514',
      max_tokens: 1024,
      messages: [{ role: 'user', content: 'Hello' }],
      system: 'Be terse.',
      temperature: 0.7,
      top_p: 0.9,
      top_k: 40,
      stop_sequences: ['\n\nHuman:'],
      stream: false,
      metadata: { user_id: 'opaque' },
      tools: [],
      tool_choice: { type: 'auto' },
      thinking: { type: 'enabled', budget_tokens: 2048 },
      service_tier: 'auto',
    });
    const request = fromAnthropicRequest(body);
    expect(request).toStrictEqual({
      model: 'claude-sonnet-4-20250514',
      system: 'Be terse.',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }],
      tools: [],
      toolChoice: { type: 'auto' },
      maxTokens: 1024,
      temperature: 0.7,
      topP: 0.9,
      stopSequences: ['\n\nHuman:'],
      user: 'opaque',
    });
    expect(CanonicalRequestSchema.parse(request)).toStrictEqual(request);
  });

  it('reads a tool conversation with tool results, images and joined system blocks', () => {
    const request = fromAnthropicRequest(AnthropicRequestSchema.parse(TOOL_CONVERSATION));
    expect(request.system).toBe('You are a weather assistant.\n\nAnswer in one sentence.');
    expect(request.toolChoice).toStrictEqual({ type: 'auto' });
    expect(request.tools).toStrictEqual([
      { name: 'get_weather', description: 'Get the current weather in a given location', inputSchema: WEATHER_TOOL.input_schema },
      { name: 'get_map', inputSchema: { type: 'object' } },
    ]);
    expect(request.messages[1]?.content).toStrictEqual([
      { type: 'text', text: 'Let me check.' },
      { type: 'tool_call', id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', arguments: { location: 'San Francisco, CA' } },
      { type: 'tool_call', id: 'toolu_01B', name: 'get_map', arguments: {} },
    ]);
    expect(request.messages[2]?.content).toStrictEqual([
      { type: 'tool_result', toolCallId: 'toolu_01A09q90qw90lq917835lq9', content: [{ type: 'text', text: '15 degrees' }] },
      {
        type: 'tool_result',
        toolCallId: 'toolu_01B',
        content: [
          { type: 'text', text: 'map:' },
          { type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: PNG } },
        ],
        isError: false,
      },
      { type: 'tool_result', toolCallId: 'toolu_01C', content: [], isError: true },
      { type: 'image', source: { kind: 'url', url: 'https://upload.wikimedia.org/wikipedia/commons/a/a7/Camponotus_flavomarginatus_ant.jpg' } },
    ]);
    expect(CanonicalRequestSchema.safeParse(request).success).toBe(true);
  });

  it('reads a tool choice naming a tool, and none', () => {
    const base = { model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };
    expect(fromAnthropicRequest(AnthropicRequestSchema.parse({ ...base, tool_choice: { type: 'tool', name: 'get_weather' } })).toolChoice).toStrictEqual({
      type: 'tool',
      name: 'get_weather',
    });
    expect(fromAnthropicRequest(AnthropicRequestSchema.parse({ ...base, tool_choice: { type: 'none' } })).toolChoice).toStrictEqual({ type: 'none' });
    expect(fromAnthropicRequest(AnthropicRequestSchema.parse({ ...base, metadata: { user_id: null } })).user).toBeUndefined();
  });
});

describe('AnthropicRequestSchema', () => {
  const base = { model: 'claude-sonnet-4-20250514', max_tokens: 256, messages: [{ role: 'user', content: 'Hello' }] };

  it('refuses an unknown top-level field with an issue naming it', () => {
    const result = AnthropicRequestSchema.safeParse({ ...base, maxTokens: 5, frequency_penalty: 1 });
    expect(result.success).toBe(false);
    expect(result.error?.issues).toStrictEqual([
      expect.objectContaining({ code: 'unrecognized_keys', message: expect.stringContaining('"maxTokens", "frequency_penalty"') }),
    ]);
  });

  it('accepts the known-but-ignored fields, including Bedrock and Vertex body fields', () => {
    const result = AnthropicRequestSchema.safeParse({
      ...base,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      service_tier: 'standard_only',
      anthropic_version: 'vertex-2023-10-16',
      anthropic_beta: ['token-efficient-tools-2025-02-19'],
      container: 'container_011CQUdh',
      mcp_servers: [],
    });
    expect(result.success).toBe(true);
  });

  it('refuses MCP servers with a message saying why', () => {
    const result = AnthropicRequestSchema.safeParse({ ...base, mcp_servers: [{ type: 'url', url: 'https://mcp.example.com/sse', name: 'x' }] });
    expect(result.error?.issues[0]?.message).toMatch(/mcp_servers is not supported/);
  });

  it('parses a Bedrock body without model through .omit', () => {
    const bedrock = { anthropic_version: 'bedrock-2023-05-31', max_tokens: 256, messages: [{ role: 'user', content: 'Hello' }] };
    expect(AnthropicRequestSchema.omit({ model: true }).safeParse(bedrock).success).toBe(true);
  });

  it('refuses what the canonical form cannot carry: server tools, documents, temperature above 1, empty content', () => {
    expect(AnthropicRequestSchema.safeParse({ ...base, tools: [{ type: 'web_search_20250305', name: 'web_search' }] }).success).toBe(false);
    const doc = { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'x' } };
    expect(AnthropicRequestSchema.safeParse({ ...base, messages: [{ role: 'user', content: [doc] }] }).success).toBe(false);
    expect(AnthropicRequestSchema.safeParse({ ...base, temperature: 1.5 }).success).toBe(false);
    expect(AnthropicRequestSchema.safeParse({ ...base, messages: [{ role: 'user', content: [] }] }).success).toBe(false);
    expect(AnthropicRequestSchema.safeParse({ ...base, metadata: { user_id: 'u', session: 's' } }).success).toBe(false);
  });
});

describe('toAnthropicRequest', () => {
  const request: CanonicalRequest = {
    model: 'claude-sonnet-4',
    system: 'Be terse.',
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }, { type: 'image', source: { kind: 'url', url: 'https://example.com/paris.jpg' } }] },
      { role: 'assistant', content: [{ type: 'tool_call', id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }] },
      {
        role: 'user',
        content: [
          { type: 'tool_result', toolCallId: 'call_1', content: [{ type: 'text', text: '18C' }], isError: false },
          { type: 'tool_result', toolCallId: 'call_2', content: [] },
        ],
      },
    ],
    tools: [{ name: 'get_weather', description: 'Weather by city', inputSchema: { type: 'object', properties: { city: { type: 'string' } } } }],
    toolChoice: { type: 'tool', name: 'get_weather' },
    maxTokens: 512,
    temperature: 1.6,
    topP: 0.5,
    stopSequences: ['END'],
    user: 'user-42',
  };

  it('writes the Anthropic body for the vendor model id, clamping temperature to Anthropic range', () => {
    const body = toAnthropicRequest(request, 'claude-sonnet-4-20250514', { stream: true });
    expect(body).toStrictEqual({
      model: 'claude-sonnet-4-20250514',
      max_tokens: 512,
      system: 'Be terse.',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Weather in Paris?' },
            { type: 'image', source: { type: 'url', url: 'https://example.com/paris.jpg' } },
          ],
        },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } }] },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'call_1', content: [{ type: 'text', text: '18C' }], is_error: false },
            { type: 'tool_result', tool_use_id: 'call_2' },
          ],
        },
      ],
      tools: [{ name: 'get_weather', description: 'Weather by city', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
      tool_choice: { type: 'tool', name: 'get_weather' },
      temperature: 1,
      top_p: 0.5,
      stop_sequences: ['END'],
      stream: true,
      metadata: { user_id: 'user-42' },
    });
    expect(AnthropicRequestSchema.safeParse(body).success).toBe(true);
  });

  it('leaves stream out unless asked, and writes base64 images and tool choice none', () => {
    const body = toAnthropicRequest(
      {
        model: 'x',
        maxTokens: 1,
        toolChoice: { type: 'none' },
        messages: [{ role: 'user', content: [{ type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: PNG } }] }],
      },
      'claude-3-5-haiku-20241022',
    );
    expect(body).toStrictEqual({
      model: 'claude-3-5-haiku-20241022',
      max_tokens: 1,
      tool_choice: { type: 'none' },
      messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } }] }],
    });
  });
});

describe('responses', () => {
  it('reads the recorded response', () => {
    const response = fromAnthropicResponse(AnthropicResponseSchema.parse(fixture('message.json')));
    expect(response).toStrictEqual({
      id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
      model: 'claude-sonnet-4-20250514',
      content: [{ type: 'text', text: 'Hi! How can I help?' }],
      stopReason: 'end_turn',
      usage: { inputTokens: 12, outputTokens: 9, cacheReadTokens: 0, cacheWriteTokens: 0 },
    });
    expect(CanonicalResponseSchema.safeParse(response).success).toBe(true);
  });

  it('reads a tool-use response, dropping thinking blocks and keys it does not know', () => {
    const body = AnthropicResponseSchema.parse({
      id: 'msg_bdrk_01',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-20250514',
      content: [
        { type: 'thinking', thinking: 'The user wants weather.', signature: 'EqQBCgIYAhIM' },
        { type: 'text', text: 'Let me check.', citations: null },
        { type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { location: 'Paris' } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      container: null,
      stop_details: null,
      usage: { input_tokens: 400, output_tokens: 60, cache_creation_input_tokens: null, cache_read_input_tokens: 128, server_tool_use: null, inference_geo: 'us' },
    });
    expect(fromAnthropicResponse(body)).toStrictEqual({
      id: 'msg_bdrk_01',
      model: 'claude-sonnet-4-20250514',
      content: [
        { type: 'text', text: 'Let me check.' },
        { type: 'tool_call', id: 'toolu_01', name: 'get_weather', arguments: { location: 'Paris' } },
      ],
      stopReason: 'tool_use',
      usage: { inputTokens: 400, outputTokens: 60, cacheReadTokens: 128 },
    });
  });

  it('refuses a text block of the wrong shape instead of dropping it', () => {
    const bad = { id: 'm', type: 'message', role: 'assistant', model: 'x', content: [{ type: 'text' }], stop_reason: 'end_turn', usage: { input_tokens: 1, output_tokens: 1 } };
    expect(AnthropicResponseSchema.safeParse(bad).success).toBe(false);
  });

  it('writes a response in the Anthropic shape, answering with the model name asked for', () => {
    const body = toAnthropicResponse(
      {
        id: 'chatcmpl-1',
        model: 'gpt-4o-2024-08-06',
        content: [
          { type: 'text', text: 'Done' },
          { type: 'tool_call', id: 'call_9', name: 'save', arguments: { ok: true } },
        ],
        stopReason: 'stop_sequence',
        stopSequence: 'END',
        usage: { inputTokens: 5, outputTokens: 2, cacheReadTokens: 1 },
      },
      'claude-sonnet-4',
    );
    expect(body).toStrictEqual({
      id: 'chatcmpl-1',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4',
      content: [
        { type: 'text', text: 'Done' },
        { type: 'tool_use', id: 'call_9', name: 'save', input: { ok: true } },
      ],
      stop_reason: 'stop_sequence',
      stop_sequence: 'END',
      usage: { input_tokens: 5, output_tokens: 2, cache_read_input_tokens: 1 },
    });
    expect(AnthropicResponseSchema.safeParse(body).success).toBe(true);
  });
});

describe('stop reasons', () => {
  const expected: Record<(typeof ANTHROPIC_STOP_REASONS)[number], string> = {
    end_turn: 'end_turn',
    max_tokens: 'max_tokens',
    stop_sequence: 'stop_sequence',
    tool_use: 'tool_use',
    refusal: 'refusal',
    pause_turn: 'end_turn',
    model_context_window_exceeded: 'max_tokens',
  };

  it.each(ANTHROPIC_STOP_REASONS.map((r) => [r, expected[r]]))('reads Anthropic %s as %s, in a response too', (anthropic, canonical) => {
    expect(fromAnthropicStopReason(anthropic)).toBe(canonical);
    const body = AnthropicResponseSchema.parse({ ...(fixture('message.json') as object), stop_reason: anthropic });
    expect(fromAnthropicResponse(body).stopReason).toBe(canonical);
  });

  it('reads an unknown or missing stop reason as end_turn', () => {
    expect(fromAnthropicStopReason('compaction_needed')).toBe('end_turn');
    expect(fromAnthropicStopReason(null)).toBe('end_turn');
    expect(fromAnthropicStopReason('toString')).toBe('end_turn');
  });

  it.each(STOP_REASONS.map((r) => [r, r === 'content_filter' ? 'refusal' : r]))('writes canonical %s as Anthropic %s', (canonical, anthropic) => {
    expect(toAnthropicStopReason(canonical)).toBe(anthropic);
  });
});
