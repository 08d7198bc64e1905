import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CanonicalRequestSchema, InvalidRequestError, CanonicalResponseSchema, type CanonicalRequest, type CanonicalResponse, type StopReason } from '../../../src/domain/index.js';
import {
  DEFAULT_MAX_TOKENS,
  fromOpenAIRequest,
  fromOpenAIResponse,
  toOpenAIRequest,
  toOpenAIResponse,
} from '../../../src/vendors/openai/translate.js';
import { OpenAIRequestSchema, OpenAIResponseSchema, type OpenAIFinishReason } from '../../../src/vendors/openai/wire.js';

const fixture = (path: string): unknown => JSON.parse(readFileSync(new URL(`../../fixtures/${path}`, import.meta.url), 'utf8'));

const weatherTool = {
  name: 'get_weather',
  description: 'Current weather in a city',
  inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

/** A Claude-style conversation: ask, tool call, tool result, answer, follow-up. */
const toolConversation: CanonicalRequest = {
  model: 'claude-sonnet-4',
  system: 'You are a weather assistant.',
  messages: [
    { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }] },
    {
      role: 'assistant',
      content: [
        { type: 'text', text: 'Let me check.' },
        { type: 'tool_call', id: 'toolu_01', name: 'get_weather', arguments: { city: 'Paris' } },
        { type: 'tool_call', id: 'toolu_02', name: 'get_weather', arguments: { city: 'Rome' } },
      ],
    },
    {
      role: 'user',
      content: [
        { type: 'tool_result', toolCallId: 'toolu_01', content: [{ type: 'text', text: '18°C, cloudy' }] },
        { type: 'tool_result', toolCallId: 'toolu_02', content: [{ type: 'text', text: '24°C, sunny' }] },
        { type: 'text', text: 'Which is warmer?' },
      ],
    },
  ],
  tools: [weatherTool],
  toolChoice: { type: 'auto' },
  maxTokens: 1024,
};

describe('toOpenAIRequest', () => {
  it('puts the system prompt first, one tool message per result, then the rest of the user turn', () => {
    const body = toOpenAIRequest(toolConversation, 'gpt-4o-mini');
    expect(body).toEqual({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'You are a weather assistant.' },
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: 'Let me check.',
          tool_calls: [
            { id: 'toolu_01', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'toolu_02', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_01', content: '18°C, cloudy' },
        { role: 'tool', tool_call_id: 'toolu_02', content: '24°C, sunny' },
        { role: 'user', content: 'Which is warmer?' },
      ],
      max_tokens: 1024,
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Current weather in a city', parameters: weatherTool.inputSchema } }],
      tool_choice: 'auto',
    });
    expect(OpenAIRequestSchema.safeParse(body).success).toBe(true);
  });

  it('sends an assistant turn of tool calls alone with content null', () => {
    const body = toOpenAIRequest(
      {
        model: 'm',
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'Paris?' }] },
          { role: 'assistant', content: [{ type: 'tool_call', id: 'call_1', name: 'get_weather', arguments: {} }] },
        ],
        maxTokens: 10,
      },
      'gpt-4o',
    );
    expect(body.messages[1]).toEqual({
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }],
    });
  });

  it('sends base64 images as data URLs and URL images as they are', () => {
    const body = toOpenAIRequest(
      {
        model: 'm',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What differs?' },
              { type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: 'iVBORw0KGgo=' } },
              { type: 'image', source: { kind: 'url', url: 'https://example.com/cat.jpg' } },
            ],
          },
        ],
        maxTokens: 100,
      },
      'gpt-4o',
    );
    expect(body.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What differs?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
        ],
      },
    ]);
  });

  it('moves images out of a tool result into a user message after it, and drops isError', () => {
    const body = toOpenAIRequest(
      {
        model: 'm',
        messages: [
          {
            role: 'user',
            content: [
              {
                type: 'tool_result',
                toolCallId: 'call_9',
                isError: true,
                content: [
                  { type: 'text', text: 'screenshot attached' },
                  { type: 'image', source: { kind: 'url', url: 'https://example.com/shot.png' } },
                ],
              },
            ],
          },
        ],
        maxTokens: 100,
      },
      'gpt-4o',
    );
    expect(body.messages).toEqual([
      { role: 'tool', tool_call_id: 'call_9', content: 'screenshot attached' },
      { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/shot.png' } }] },
    ]);
  });

  it('maps sampling, stop sequences, user and each tool choice', () => {
    const base: CanonicalRequest = {
      model: 'm',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
      maxTokens: 256,
      temperature: 0.7,
      topP: 0.9,
      stopSequences: ['\n\n', 'END'],
      user: 'user-42',
    };
    expect(toOpenAIRequest(base, 'gpt-4o-mini')).toMatchObject({ max_tokens: 256, temperature: 0.7, top_p: 0.9, stop: ['\n\n', 'END'], user: 'user-42' });
    expect(toOpenAIRequest({ ...base, toolChoice: { type: 'any' } }, 'x').tool_choice).toBe('required');
    expect(toOpenAIRequest({ ...base, toolChoice: { type: 'none' } }, 'x').tool_choice).toBe('none');
    expect(toOpenAIRequest({ ...base, toolChoice: { type: 'tool', name: 'get_weather' } }, 'x').tool_choice).toEqual({
      type: 'function',
      function: { name: 'get_weather' },
    });
  });

  it('asks for usage in the stream when streaming, and says nothing of streams otherwise', () => {
    const streamed = toOpenAIRequest(toolConversation, 'gpt-4o-mini', { stream: true });
    expect(streamed).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    const plain = toOpenAIRequest(toolConversation, 'gpt-4o-mini');
    expect(plain).not.toHaveProperty('stream');
    expect(plain).not.toHaveProperty('stream_options');
  });

  it('refuses a tool call in a user message and an image in an assistant message, as the caller\'s error naming the block', () => {
    const call = { type: 'tool_call' as const, id: 'c1', name: 'f', arguments: {} };
    const image = { type: 'image' as const, source: { kind: 'url' as const, url: 'https://example.com/a.png' } };
    const refusal = (request: Parameters<typeof toOpenAIRequest>[0]) => {
      try {
        toOpenAIRequest(request, 'x');
      } catch (error) {
        return error;
      }
      return undefined;
    };
    const inUser = refusal({ model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }, call] }], maxTokens: 1 });
    expect(inUser).toBeInstanceOf(InvalidRequestError);
    expect(inUser).toMatchObject({ field: 'messages.0.content.1', message: expect.stringMatching(/tool call c1/) });
    const inAssistant = refusal({ model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }, { role: 'assistant', content: [image] }], maxTokens: 1 });
    expect(inAssistant).toMatchObject({ code: 'invalid_request', field: 'messages.1.content.0', message: expect.stringMatching(/assistant message/) });
  });
});

describe('fromOpenAIRequest', () => {
  it('reads the §2.1 request', () => {
    const body = OpenAIRequestSchema.parse({
      model: 'gpt-4o-mini',
      messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'Hello' }],
      max_tokens: 256,
      max_completion_tokens: 256,
      temperature: 0.7,
      top_p: 1,
      n: 1,
      stop: ['\n\n'],
      stream: true,
      stream_options: { include_usage: true },
      tools: [],
      tool_choice: 'auto',
      user: 'opaque',
    });
    const request = fromOpenAIRequest(body);
    expect(request).toEqual({
      model: 'gpt-4o-mini',
      system: 'Be terse.',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }],
      maxTokens: 256,
      temperature: 0.7,
      topP: 1,
      stopSequences: ['\n\n'],
      tools: [],
      toolChoice: { type: 'auto' },
      user: 'opaque',
    });
    expect(CanonicalRequestSchema.safeParse(request).success).toBe(true);
  });

  it('joins system and developer messages, wherever they are, with a blank line', () => {
    const request = fromOpenAIRequest(
      OpenAIRequestSchema.parse({
        model: 'gpt-4o',
        messages: [
          { role: 'developer', content: 'Answer in French.' },
          { role: 'user', content: 'Hello' },
          { role: 'system', content: [{ type: 'text', text: 'Be brief.' }] },
        ],
      }),
    );
    expect(request.system).toBe('Answer in French.\n\nBe brief.');
    expect(request.messages).toHaveLength(1);
  });

  it('gathers consecutive tool messages into one user turn, with the user message that follows', () => {
    const wire = toOpenAIRequest(toolConversation, 'gpt-4o-mini');
    const request = fromOpenAIRequest(OpenAIRequestSchema.parse({ ...wire, model: 'claude-sonnet-4' }));
    expect(request).toEqual(toolConversation);
  });

  it('gathers tool messages at the end of the conversation into their own user turn', () => {
    const request = fromOpenAIRequest(
      OpenAIRequestSchema.parse({
        model: 'gpt-4o',
        messages: [
          { role: 'user', content: 'Paris?' },
          { role: 'assistant', content: '', tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
          { role: 'tool', tool_call_id: 'call_a', content: [{ type: 'text', text: '18°C' }] },
        ],
      }),
    );
    expect(request.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Paris?' }] },
      { role: 'assistant', content: [{ type: 'tool_call', id: 'call_a', name: 'get_weather', arguments: { city: 'Paris' } }] },
      { role: 'user', content: [{ type: 'tool_result', toolCallId: 'call_a', content: [{ type: 'text', text: '18°C' }] }] },
    ]);
  });

  it('prefers max_completion_tokens, then max_tokens, then the documented default', () => {
    const messages = [{ role: 'user', content: 'hi' }];
    expect(fromOpenAIRequest(OpenAIRequestSchema.parse({ model: 'm', messages, max_tokens: 50, max_completion_tokens: 70 })).maxTokens).toBe(70);
    expect(fromOpenAIRequest(OpenAIRequestSchema.parse({ model: 'm', messages, max_tokens: 50, max_completion_tokens: null })).maxTokens).toBe(50);
    expect(fromOpenAIRequest(OpenAIRequestSchema.parse({ model: 'm', messages })).maxTokens).toBe(DEFAULT_MAX_TOKENS);
    expect(DEFAULT_MAX_TOKENS).toBe(4096);
  });

  it('reads data URLs as base64 images and other URLs as URL images', () => {
    const request = fromOpenAIRequest(
      OpenAIRequestSchema.parse({
        model: 'gpt-4o',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQSkZJRg==', detail: 'high' } },
              { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
            ],
          },
        ],
      }),
    );
    expect(request.messages[0]?.content).toEqual([
      { type: 'image', source: { kind: 'base64', mediaType: 'image/jpeg', data: '/9j/4AAQSkZJRg==' } },
      { type: 'image', source: { kind: 'url', url: 'https://example.com/cat.jpg' } },
    ]);
  });

  it('names the tool call whose arguments are not JSON, or not an object', () => {
    const withArguments = (args: string) =>
      OpenAIRequestSchema.parse({
        model: 'gpt-4o',
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: null, tool_calls: [{ id: 'call_bad', type: 'function', function: { name: 'lookup', arguments: args } }] },
        ],
      });
    expect(() => fromOpenAIRequest(withArguments('{"q": '))).toThrow(/tool call call_bad \(lookup\).*not valid JSON/);
    expect(() => fromOpenAIRequest(withArguments('[1,2]'))).toThrow(/tool call call_bad \(lookup\).*not a JSON object/);
    expect(fromOpenAIRequest(withArguments('')).messages[1]?.content).toEqual([{ type: 'tool_call', id: 'call_bad', name: 'lookup', arguments: {} }]);
  });

  it('accepts an assistant message echoed back from an SDK response', () => {
    const body = OpenAIRequestSchema.parse({
      model: 'gpt-4o',
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hi!', refusal: null, annotations: [] },
        { role: 'user', content: 'Again', name: 'alice' },
      ],
    });
    expect(fromOpenAIRequest(body).messages).toHaveLength(3);
  });

  it('accepts the known-but-ignored fields and rejects any other unknown key', () => {
    const base = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] };
    const ignored = {
      seed: 7,
      presence_penalty: 0.1,
      frequency_penalty: 0.2,
      logprobs: false,
      parallel_tool_calls: true,
      response_format: { type: 'text' },
      store: false,
      metadata: { app: 'demo' },
      service_tier: 'auto',
      logit_bias: { '50256': -100 },
    };
    expect(OpenAIRequestSchema.safeParse({ ...base, ...ignored }).success).toBe(true);
    expect(fromOpenAIRequest(OpenAIRequestSchema.parse({ ...base, ...ignored }))).toEqual(fromOpenAIRequest(OpenAIRequestSchema.parse(base)));
    expect(OpenAIRequestSchema.safeParse({ ...base, max_token: 10 }).success).toBe(false);
    expect(OpenAIRequestSchema.safeParse({ ...base, modalities: ['text', 'audio'] }).success).toBe(false);
  });

  it('refuses n > 1, which asks for answers the canonical response cannot hold', () => {
    expect(() => fromOpenAIRequest(OpenAIRequestSchema.parse({ model: 'm', messages: [{ role: 'user', content: 'hi' }], n: 2 }))).toThrow(/n = 2/);
  });

  it('maps each tool choice and fills in a missing parameters schema', () => {
    const body = (tool_choice: unknown) =>
      OpenAIRequestSchema.parse({ model: 'm', messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'function', function: { name: 'now' } }], tool_choice });
    expect(fromOpenAIRequest(body('required')).toolChoice).toEqual({ type: 'any' });
    expect(fromOpenAIRequest(body('none')).toolChoice).toEqual({ type: 'none' });
    expect(fromOpenAIRequest(body({ type: 'function', function: { name: 'now' } })).toolChoice).toEqual({ type: 'tool', name: 'now' });
    expect(fromOpenAIRequest(body('auto')).tools).toEqual([{ name: 'now', inputSchema: { type: 'object', properties: {} } }]);
  });
});

describe('responses', () => {
  it('reads the §2.2 response (fixture chat-completion.json)', () => {
    const response = fromOpenAIResponse(OpenAIResponseSchema.parse(fixture('openai/chat-completion.json')));
    expect(response).toEqual({
      id: 'chatcmpl-abc123',
      model: 'gpt-4o-mini-2024-07-18',
      content: [{ type: 'text', text: 'Hi!' }],
      stopReason: 'end_turn',
      usage: { inputTokens: 9, outputTokens: 3, cacheReadTokens: 0 },
    });
    expect(CanonicalResponseSchema.safeParse(response).success).toBe(true);
  });

  const finishReasons: [OpenAIFinishReason, StopReason][] = [
    ['stop', 'end_turn'],
    ['length', 'max_tokens'],
    ['tool_calls', 'tool_use'],
    ['content_filter', 'content_filter'],
    ['function_call', 'tool_use'],
  ];
  it.each(finishReasons)('reads finish_reason %s as %s', (finish, stop) => {
    const body = OpenAIResponseSchema.parse({
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1,
      model: 'gpt-4o',
      choices: [{ index: 0, message: { role: 'assistant', content: 'x' }, finish_reason: finish }],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    });
    expect(fromOpenAIResponse(body).stopReason).toBe(stop);
  });

  const stopReasons: [StopReason, OpenAIFinishReason][] = [
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['tool_use', 'tool_calls'],
    ['content_filter', 'content_filter'],
    ['refusal', 'content_filter'],
  ];
  it.each(stopReasons)('writes stop reason %s as finish_reason %s', (stop, finish) => {
    const response: CanonicalResponse = { id: 'msg_1', model: 'claude-sonnet-4', content: [{ type: 'text', text: 'x' }], stopReason: stop, usage: { inputTokens: 1, outputTokens: 1 } };
    expect(toOpenAIResponse(response).choices[0]?.finish_reason).toBe(finish);
  });

  it('reads a tool-call response, and a forced call answered with stop as tool_use', () => {
    const body = (finish: string) =>
      OpenAIResponseSchema.parse({
        id: 'chatcmpl-BcQ8',
        object: 'chat.completion',
        created: 1748496646,
        model: 'gpt-4o-2024-08-06',
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: null,
              refusal: null,
              annotations: [],
              tool_calls: [{ id: 'call_qOf', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Shanghai"}' } }],
            },
            logprobs: null,
            finish_reason: finish,
          },
        ],
        usage: { prompt_tokens: 91, completion_tokens: 14, total_tokens: 105 },
      });
    const expected = {
      id: 'chatcmpl-BcQ8',
      model: 'gpt-4o-2024-08-06',
      content: [{ type: 'tool_call', id: 'call_qOf', name: 'get_weather', arguments: { location: 'Shanghai' } }],
      stopReason: 'tool_use',
      usage: { inputTokens: 91, outputTokens: 14 },
    };
    expect(fromOpenAIResponse(body('tool_calls'))).toEqual(expected);
    expect(fromOpenAIResponse(body('stop'))).toEqual(expected);
  });

  it('reads an Azure response with prompt_filter_results and content_filter_results', () => {
    const body = OpenAIResponseSchema.parse({
      choices: [
        {
          content_filter_results: { hate: { filtered: false, severity: 'safe' }, violence: { filtered: false, severity: 'safe' } },
          finish_reason: 'stop',
          index: 0,
          logprobs: null,
          message: { annotations: [], content: 'Seattle.', refusal: null, role: 'assistant' },
        },
      ],
      created: 1718000400,
      id: 'chatcmpl-AzR1',
      model: 'gpt-4o-2024-08-06',
      object: 'chat.completion',
      prompt_filter_results: [{ prompt_index: 0, content_filter_results: { hate: { filtered: false, severity: 'safe' }, jailbreak: { filtered: false, detected: false } } }],
      system_fingerprint: 'fp_az01',
      usage: { completion_tokens: 3, prompt_tokens: 1544, prompt_tokens_details: { cached_tokens: 1408 }, total_tokens: 1547 },
    });
    expect(fromOpenAIResponse(body)).toEqual({
      id: 'chatcmpl-AzR1',
      model: 'gpt-4o-2024-08-06',
      content: [{ type: 'text', text: 'Seattle.' }],
      stopReason: 'end_turn',
      // prompt_tokens include the cached ones; canonical inputTokens do not.
      usage: { inputTokens: 136, outputTokens: 3, cacheReadTokens: 1408 },
    });
  });

  it('reads an Azure output-side filter as content_filter with whatever text came before it', () => {
    const body = OpenAIResponseSchema.parse({
      id: 'chatcmpl-AzR2',
      created: 1,
      model: 'gpt-4o',
      choices: [{ index: 0, message: { role: 'assistant', content: null }, finish_reason: 'content_filter', content_filter_results: { violence: { filtered: true, severity: 'medium' } } }],
      usage: { prompt_tokens: 20, completion_tokens: 0, total_tokens: 20 },
    });
    expect(fromOpenAIResponse(body)).toMatchObject({ content: [], stopReason: 'content_filter' });
  });

  it('reads a structured-output refusal as text with stop reason refusal', () => {
    const body = OpenAIResponseSchema.parse({
      id: 'chatcmpl-r',
      created: 1,
      model: 'gpt-4o',
      choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: "I can't help with that." }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 5, completion_tokens: 6, total_tokens: 11 },
    });
    expect(fromOpenAIResponse(body)).toMatchObject({ content: [{ type: 'text', text: "I can't help with that." }], stopReason: 'refusal' });
  });

  it('throws when a response has no choices', () => {
    expect(() => fromOpenAIResponse(OpenAIResponseSchema.parse({ id: 'chatcmpl-0', created: 1, model: 'm', choices: [] }))).toThrow(/no choices/);
  });

  it('writes a Claude answer with tool calls as an OpenAI response that the wire schema accepts', () => {
    const response: CanonicalResponse = {
      id: 'msg_01',
      model: 'claude-sonnet-4-20250514',
      content: [
        { type: 'text', text: 'Checking ' },
        { type: 'text', text: 'now.' },
        { type: 'tool_call', id: 'toolu_01', name: 'get_weather', arguments: { city: 'Paris' } },
      ],
      stopReason: 'tool_use',
      usage: { inputTokens: 100, outputTokens: 20, cacheReadTokens: 50, cacheWriteTokens: 10 },
    };
    const body = toOpenAIResponse(response, 'gpt-4o');
    expect(OpenAIResponseSchema.parse(body)).toEqual(body);
    expect(body).toEqual({
      id: 'msg_01',
      object: 'chat.completion',
      created: expect.any(Number),
      model: 'gpt-4o',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Checking now.',
            refusal: null,
            tool_calls: [{ id: 'toolu_01', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
          },
          logprobs: null,
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 160, completion_tokens: 20, total_tokens: 180, prompt_tokens_details: { cached_tokens: 50 } },
    });
    expect(toOpenAIResponse(response).model).toBe('claude-sonnet-4-20250514');
  });
});
