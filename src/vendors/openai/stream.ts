/**
 * OpenAI Chat Completions streams (and Azure's variant of them) ↔ canonical
 * stream events. The decoder serves the OpenAI and Azure adapters; the encoder serves the gateway
 * and the simulator. Both work on the text of one SSE `data:` field: splitting the byte stream into
 * events (§0.2) is the transport's job.
 */
import type { StopReason, StreamEvent, Usage } from '../../domain/index.js';
import { fromOpenAIUsage, toFinishReason, toOpenAIUsage, toStopReason } from './translate.js';
import {
  OpenAIChunkSchema,
  OpenAIErrorEnvelopeSchema,
  type OpenAIChunk,
  type OpenAIFinishReason,
} from './wire.js';
import { MalformedStreamError } from '../malformed.js';
import { isCommonChunk } from './common-chunk.js';

// The adapters of every vendor throw the one shared class; existing imports from here keep working.
export { MalformedStreamError };

const DONE = '[DONE]';

/** One SSE event carrying `payload` as its data; a multi-line payload becomes several `data:` lines. */
export function formatSseData(payload: string): string {
  return `${payload
    .split('\n')
    .map((line) => `data: ${line}`)
    .join('\n')}\n\n`;
}

/**
 * Turns the `data:` payloads of one OpenAI stream into canonical events. The text of the answer is
 * block 0; tool call k (OpenAI's own `index`) is block k + 1, so text and calls never share a block.
 */
export class OpenAIStreamDecoder {
  #done = false;
  #started = false;
  #finishReason: OpenAIFinishReason | undefined;
  #calledTools = false;
  #refused = false;

  /** `[DONE]` arrived: anything after it is ignored. */
  get done(): boolean {
    return this.#done;
  }

  /**
   * A finish_reason arrived. `done` without it means the stream was cut before the answer ended
   * (some proxies still close it with `[DONE]`), which the adapter reports as truncated.
   */
  get sawFinish(): boolean {
    return this.#finishReason !== undefined;
  }

  push(data: string): StreamEvent[] {
    if (this.#done) return [];
    if (data.trim() === DONE) {
      this.#done = true;
      return this.#finishReason === undefined ? [] : [{ type: 'end', stopReason: this.#stopReason(this.#finishReason) }];
    }
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch (cause) {
      throw new MalformedStreamError('an OpenAI stream event is not JSON', data, { cause });
    }
    if (typeof json === 'object' && json !== null && 'error' in json) return [errorEvent(json, data)];
    if (isCommonChunk(json)) return this.#chunkEvents(json);
    const chunk = OpenAIChunkSchema.safeParse(json);
    if (!chunk.success) {
      throw new MalformedStreamError(`an OpenAI stream event is not a chat.completion.chunk: ${chunk.error.issues[0]?.message ?? ''}`, data);
    }
    return this.#chunkEvents(chunk.data);
  }

  #chunkEvents(chunk: OpenAIChunk): StreamEvent[] {
    const events: StreamEvent[] = [];
    // Azure's first chunk has id '' (and only content-filter results), so it does not start the answer.
    if (!this.#started && chunk.id !== '') {
      this.#started = true;
      events.push({ type: 'start', id: chunk.id, model: chunk.model });
    }
    // Only one answer is ever asked for (n = 1); its choice is index 0.
    for (const choice of chunk.choices.filter((c) => c.index === 0)) {
      const delta = choice.delta;
      if (delta?.content != null && delta.content !== '') events.push({ type: 'delta', index: 0, delta: { type: 'text', text: delta.content } });
      if (delta?.refusal != null && delta.refusal !== '') {
        this.#refused = true;
        events.push({ type: 'delta', index: 0, delta: { type: 'text', text: delta.refusal } });
      }
      for (const call of delta?.tool_calls ?? []) {
        this.#calledTools = true;
        const fn = call.function;
        events.push({
          type: 'delta',
          index: call.index + 1,
          delta: {
            type: 'tool_call',
            ...(call.id != null ? { id: call.id } : {}),
            ...(fn?.name != null ? { name: fn.name } : {}),
            argumentsJson: fn?.arguments ?? '',
          },
        });
      }
      if (choice.finish_reason != null) this.#finishReason = choice.finish_reason;
    }
    if (chunk.usage != null) events.push({ type: 'usage', usage: fromOpenAIUsage(chunk.usage) });
    return events;
  }

  #stopReason(finish: OpenAIFinishReason): StopReason {
    return this.#refused && finish === 'stop' ? 'refusal' : toStopReason(finish, this.#calledTools);
  }
}

function errorEvent(json: object, data: string): StreamEvent {
  const envelope = OpenAIErrorEnvelopeSchema.safeParse(json);
  // An error we cannot read is still an error: report its text rather than hide it as malformed.
  if (!envelope.success) return { type: 'error', error: { code: 'server_error', message: data.slice(0, 200) } };
  const { code, type, message } = envelope.data.error;
  return { type: 'error', error: { code: code != null && code !== '' ? String(code) : (type ?? 'server_error'), message } };
}

/**
 * The data of an SSE `event: error`: an error whatever it holds, since the event name alone says
 * so (openai-node throws on it too). Its data is usually the `{error:{...}}` envelope.
 */
export function streamErrorEvent(data: string): StreamEvent {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    json = undefined;
  }
  if (typeof json === 'object' && json !== null) return errorEvent(json, data);
  return { type: 'error', error: { code: 'server_error', message: data.slice(0, 200) } };
}

export interface OpenAIStreamEncoderOptions {
  /** The id the caller sees, e.g. `chatcmpl-…`; not the vendor's, which may be an Anthropic `msg_…`. */
  id: string;
  /** The model the caller asked for, not the vendor model that answered. */
  model: string;
  /** Unix seconds, the same on every chunk. */
  created: number;
  /** The caller's `stream_options.include_usage`. */
  includeUsage: boolean;
  systemFingerprint?: string;
}

/**
 * Turns canonical events into the `data:` payloads of an OpenAI stream, shaped as §2.3: a role
 * chunk, content and tool-call chunks, a finish chunk, the usage chunk (`choices: []`), `[DONE]`.
 */
export class OpenAIStreamEncoder {
  readonly #options: OpenAIStreamEncoderOptions;
  #opened = false;
  #closed = false;
  #usage: Partial<Usage> | undefined;
  /** Canonical block index → OpenAI tool-call index, numbered in order of first appearance. */
  readonly #toolIndexes = new Map<number, number>();

  constructor(options: OpenAIStreamEncoderOptions) {
    this.#options = options;
  }

  encode(event: StreamEvent): string[] {
    if (this.#closed) return [];
    switch (event.type) {
      case 'start':
        return this.#open();
      case 'delta':
        return [...this.#open(), this.#choiceChunk(this.#delta(event.index, event.delta), null)];
      case 'usage':
        // Usage arrives in parts (Anthropic sends input first, output last) but OpenAI reports it
        // once, after the finish chunk; keep the latest of each count until then.
        this.#usage = { ...this.#usage, ...definedOnly(event.usage) };
        return [];
      case 'end':
        this.#closed = true;
        return [...this.#open(), this.#choiceChunk({}, toFinishReason(event.stopReason)), ...this.#usageChunk(), DONE];
      case 'error':
        this.#closed = true;
        // After 200 the caller's mistakes were already ruled out, so a mid-stream error is the server's.
        // No [DONE] follows: a lenient client must not take the partial answer for a whole one.
        return [JSON.stringify({ error: { message: event.error.message, type: 'server_error', param: null, code: event.error.code } })];
    }
  }

  #open(): string[] {
    if (this.#opened) return [];
    this.#opened = true;
    return [this.#choiceChunk({ role: 'assistant', content: '', refusal: null }, null)];
  }

  #delta(index: number, delta: Extract<StreamEvent, { type: 'delta' }>['delta']): NonNullable<OpenAIChunk['choices'][number]['delta']> {
    if (delta.type === 'text') return { content: delta.text };
    let toolIndex = this.#toolIndexes.get(index);
    if (toolIndex === undefined) {
      toolIndex = this.#toolIndexes.size;
      this.#toolIndexes.set(index, toolIndex);
    }
    const first = delta.id !== undefined || delta.name !== undefined;
    return {
      tool_calls: [
        {
          index: toolIndex,
          ...(delta.id !== undefined ? { id: delta.id } : {}),
          ...(first ? { type: 'function' as const } : {}),
          function: { ...(delta.name !== undefined ? { name: delta.name } : {}), arguments: delta.argumentsJson },
        },
      ],
    };
  }

  #choiceChunk(delta: NonNullable<OpenAIChunk['choices'][number]['delta']>, finishReason: OpenAIFinishReason | null): string {
    return this.#chunk([{ index: 0, delta, logprobs: null, finish_reason: finishReason }], null);
  }

  /** Sent only when some usage was reported: zeros would be read as real counts by billing tools. */
  #usageChunk(): string[] {
    if (!this.#options.includeUsage || this.#usage === undefined) return [];
    const usage = this.#usage;
    return [
      this.#chunk(
        [],
        toOpenAIUsage({
          inputTokens: usage.inputTokens ?? 0,
          outputTokens: usage.outputTokens ?? 0,
          ...(usage.cacheReadTokens !== undefined ? { cacheReadTokens: usage.cacheReadTokens } : {}),
          ...(usage.cacheWriteTokens !== undefined ? { cacheWriteTokens: usage.cacheWriteTokens } : {}),
        }),
      ),
    ];
  }

  /** Key order as OpenAI writes it, so the simulator's bytes match §2.3. */
  #chunk(choices: OpenAIChunk['choices'], usage: OpenAIChunk['usage']): string {
    const { id, model, created, includeUsage, systemFingerprint } = this.#options;
    const chunk: OpenAIChunk = {
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      ...(systemFingerprint !== undefined ? { system_fingerprint: systemFingerprint } : {}),
      choices,
      // With include_usage every chunk carries `usage: null` and only the usage chunk fills it.
      ...(includeUsage ? { usage } : {}),
    };
    return JSON.stringify(chunk);
  }
}

function definedOnly(usage: Partial<Usage>): Partial<Usage> {
  return Object.fromEntries(Object.entries(usage).filter(([, value]) => value !== undefined));
}
