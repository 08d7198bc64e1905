/**
 * Anthropic's server-sent event stream to canonical stream events
 * and back. The decoder takes one SSE event at a time, already split by an SSE parser (or unwrapped
 * from a Bedrock chunk, which carries the same JSON without an event name); the encoder produces
 * the event order Anthropic clients expect, and `formatSse` the bytes.
 */
import type { z } from 'zod';
import type { StopReason, StreamEvent, Usage } from '../../domain/index.js';
import { fromAnthropicStopReason, toAnthropicStopReason } from './translate.js';
import {
  AnthropicErrorSchema,
  ContentBlockDeltaEventSchema,
  ContentBlockStartEventSchema,
  ContentBlockStopEventSchema,
  MessageDeltaEventSchema,
  MessageStartEventSchema,
  MessageStopEventSchema,
  isInputJsonDelta,
  isTextBlock,
  isTextDelta,
  isToolUseBlock,
  type AnthropicStreamEvent,
  type AnthropicUsage,
} from './wire.js';

import { MalformedStreamError } from '../malformed.js';

export { MalformedStreamError };

type UsagePart = Partial<Usage>;

function cacheCounts(usage: Pick<AnthropicUsage, 'cache_read_input_tokens' | 'cache_creation_input_tokens'>): UsagePart {
  return {
    ...(usage.cache_read_input_tokens != null && { cacheReadTokens: usage.cache_read_input_tokens }),
    ...(usage.cache_creation_input_tokens != null && { cacheWriteTokens: usage.cache_creation_input_tokens }),
  };
}

export class AnthropicStreamDecoder {
  #stopped = false;
  #stopReason: StopReason = 'end_turn';
  #stopSequence: string | undefined;
  /**
   * Anthropic block index → canonical block index, or null for blocks the canonical form cannot
   * carry (thinking, server tools). Renumbering keeps canonical indexes dense when those are skipped.
   */
  readonly #indexes = new Map<number, number | null>();
  #nextIndex = 0;

  /** Whether message_stop was seen; a stream that ends without it was cut off. */
  get done(): boolean {
    return this.#stopped;
  }

  push(sse: { event?: string; data: string }): StreamEvent[] {
    // Nothing after message_stop can change the answer, so late or broken events must not fail it.
    if (this.#stopped || sse.event === 'ping') return [];
    const json = parseJson(sse.data);
    const type = typeof json === 'object' && json !== null && 'type' in json ? json.type : undefined;
    if (sse.event === 'error' || type === 'error') return [this.#error(json, sse.data)];
    switch (type) {
      case 'message_start':
        return this.#messageStart(parse(MessageStartEventSchema, json, sse.data));
      case 'content_block_start':
        return this.#blockStart(parse(ContentBlockStartEventSchema, json, sse.data));
      case 'content_block_delta':
        return this.#blockDelta(parse(ContentBlockDeltaEventSchema, json, sse.data));
      case 'content_block_stop':
        parse(ContentBlockStopEventSchema, json, sse.data);
        return [];
      case 'message_delta':
        return this.#messageDelta(parse(MessageDeltaEventSchema, json, sse.data));
      case 'message_stop':
        parse(MessageStopEventSchema, json, sse.data);
        this.#stopped = true;
        return [{ type: 'end', stopReason: this.#stopReason, ...(this.#stopSequence !== undefined && { stopSequence: this.#stopSequence }) }];
      case undefined:
        throw new MalformedStreamError('Anthropic stream event without a "type"', sse.data);
      default:
        // ping, and event types newer than this decoder: the SDKs skip those too.
        return [];
    }
  }

  #messageStart(event: z.infer<typeof MessageStartEventSchema>): StreamEvent[] {
    const { message } = event;
    // Output tokens here are a placeholder (usually 1); the real count comes with message_delta.
    return [
      { type: 'start', id: message.id, model: message.model },
      { type: 'usage', usage: { inputTokens: message.usage.input_tokens, ...cacheCounts(message.usage) } },
    ];
  }

  #blockStart(event: z.infer<typeof ContentBlockStartEventSchema>): StreamEvent[] {
    const block = event.content_block;
    if (!isTextBlock(block) && !isToolUseBlock(block)) {
      this.#indexes.set(event.index, null);
      return [];
    }
    const index = this.#canonicalIndex(event.index);
    if (index === null) return [];
    if (isTextBlock(block)) return block.text === '' ? [] : [{ type: 'delta', index, delta: { type: 'text', text: block.text } }];
    // The opening input is always {} in practice; the JSON arrives in fragments after it.
    const argumentsJson = Object.keys(block.input).length > 0 ? JSON.stringify(block.input) : '';
    return [{ type: 'delta', index, delta: { type: 'tool_call', id: block.id, name: block.name, argumentsJson } }];
  }

  #blockDelta(event: z.infer<typeof ContentBlockDeltaEventSchema>): StreamEvent[] {
    const index = this.#canonicalIndex(event.index);
    if (index === null) return [];
    const delta = event.delta;
    if (isTextDelta(delta)) return [{ type: 'delta', index, delta: { type: 'text', text: delta.text } }];
    if (isInputJsonDelta(delta)) return [{ type: 'delta', index, delta: { type: 'tool_call', argumentsJson: delta.partial_json } }];
    // thinking, signature and citation deltas have no canonical counterpart.
    return [];
  }

  #messageDelta(event: z.infer<typeof MessageDeltaEventSchema>): StreamEvent[] {
    if (event.delta.stop_reason != null) this.#stopReason = fromAnthropicStopReason(event.delta.stop_reason);
    if (event.delta.stop_sequence != null) this.#stopSequence = event.delta.stop_sequence;
    const usage = event.usage;
    return [
      {
        type: 'usage',
        usage: {
          outputTokens: usage.output_tokens,
          ...(usage.input_tokens != null && { inputTokens: usage.input_tokens }),
          ...cacheCounts(usage),
        },
      },
    ];
  }

  #error(json: unknown, data: string): StreamEvent {
    const { error } = parse(AnthropicErrorSchema, json, data);
    return { type: 'error', error: { code: error.type, message: error.message } };
  }

  /** A delta for a block that never had a content_block_start still gets a place, rather than being lost. */
  #canonicalIndex(anthropicIndex: number): number | null {
    const known = this.#indexes.get(anthropicIndex);
    if (known !== undefined) return known;
    const index = this.#nextIndex++;
    this.#indexes.set(anthropicIndex, index);
    return index;
  }
}

function parseJson(data: string): unknown {
  try {
    return JSON.parse(data) as unknown;
  } catch (cause) {
    throw new MalformedStreamError('Anthropic stream event data is not JSON', data, { cause });
  }
}

function parse<T extends z.ZodType>(schema: T, json: unknown, data: string): z.infer<T> {
  const result = schema.safeParse(json);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
  throw new MalformedStreamError(`Anthropic stream event does not have the documented shape${where}: ${issue?.message ?? 'invalid'}`, data, {
    cause: result.error,
  });
}

/** One SSE event as Anthropic sends it: the event name repeats the data's `type`. */
export interface AnthropicSseEvent {
  event: AnthropicStreamEvent['type'];
  data: AnthropicStreamEvent;
}

function frame(data: AnthropicStreamEvent): AnthropicSseEvent {
  return { event: data.type, data };
}

export class AnthropicStreamEncoder {
  readonly #modelOverride: string | undefined;
  #id = '';
  #model = '';
  /** Input and cache counts known before message_start goes out: they belong in it. */
  readonly #openingUsage: UsagePart = {};
  /** Input and cache counts learned later: newer streams repeat them in message_delta. */
  readonly #lateUsage: UsagePart = {};
  #outputTokens = 0;
  #started = false;
  #finished = false;
  #openIndex: number | undefined;
  readonly #openedIndexes = new Set<number>();

  /** `model` replaces the answering model's id, for a gateway that echoes the name the caller asked for. */
  constructor(options?: { model?: string }) {
    this.#modelOverride = options?.model;
  }

  /**
   * Canonical streams deliver blocks in order and end with `end` after the last usage; a delta that
   * returns to an earlier block is sent to that index again without a second content_block_start.
   */
  encode(event: StreamEvent): AnthropicSseEvent[] {
    if (this.#finished) return [];
    switch (event.type) {
      case 'start':
        this.#id = event.id;
        this.#model = event.model;
        return [];
      case 'usage':
        this.#absorbUsage(event.usage);
        return [];
      case 'delta':
        return this.#delta(event);
      case 'end': {
        const frames = [...this.#messageStart(), ...this.#closeOpenBlock()];
        frames.push(
          frame({
            type: 'message_delta',
            delta: { stop_reason: toAnthropicStopReason(event.stopReason), stop_sequence: event.stopSequence ?? null },
            usage: {
              output_tokens: this.#outputTokens,
              ...(this.#lateUsage.inputTokens !== undefined && { input_tokens: this.#lateUsage.inputTokens }),
              ...toCacheFields(this.#lateUsage),
            },
          }),
          frame({ type: 'message_stop' }),
        );
        this.#finished = true;
        return frames;
      }
      case 'error':
        // Anthropic ends the stream right after an error event, open block or not.
        this.#finished = true;
        return [frame({ type: 'error', error: { type: event.error.code, message: event.error.message } })];
    }
  }

  #delta(event: Extract<StreamEvent, { type: 'delta' }>): AnthropicSseEvent[] {
    const frames = this.#messageStart();
    const { index, delta } = event;
    let opening = false;
    if (index !== this.#openIndex) {
      frames.push(...this.#closeOpenBlock());
      this.#openIndex = index;
      if (!this.#openedIndexes.has(index)) {
        this.#openedIndexes.add(index);
        opening = true;
        frames.push(
          frame({
            type: 'content_block_start',
            index,
            content_block:
              delta.type === 'text'
                ? { type: 'text', text: '' }
                : { type: 'tool_use', id: delta.id ?? '', name: delta.name ?? '', input: {} },
          }),
        );
      }
    }
    if (delta.type === 'text') {
      frames.push(frame({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: delta.text } }));
    } else if (!(opening && delta.argumentsJson === '')) {
      // An empty opening fragment is already said by content_block_start.
      frames.push(frame({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: delta.argumentsJson } }));
    }
    return frames;
  }

  /** message_start waits for the first delta (or the end) so the input tokens of a preceding usage event can go in it. */
  #messageStart(): AnthropicSseEvent[] {
    if (this.#started) return [];
    this.#started = true;
    return [
      frame({
        type: 'message_start',
        message: {
          id: this.#id,
          type: 'message',
          role: 'assistant',
          model: this.#modelOverride ?? this.#model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: this.#openingUsage.inputTokens ?? 0, output_tokens: 1, ...toCacheFields(this.#openingUsage) },
        },
      }),
    ];
  }

  #closeOpenBlock(): AnthropicSseEvent[] {
    if (this.#openIndex === undefined) return [];
    const index = this.#openIndex;
    this.#openIndex = undefined;
    return [frame({ type: 'content_block_stop', index })];
  }

  #absorbUsage(usage: UsagePart): void {
    // Anthropic reports cumulative output tokens; the last canonical count is the total so far.
    if (usage.outputTokens !== undefined) this.#outputTokens = usage.outputTokens;
    const target = this.#started ? this.#lateUsage : this.#openingUsage;
    if (usage.inputTokens !== undefined) target.inputTokens = usage.inputTokens;
    if (usage.cacheReadTokens !== undefined) target.cacheReadTokens = usage.cacheReadTokens;
    if (usage.cacheWriteTokens !== undefined) target.cacheWriteTokens = usage.cacheWriteTokens;
  }
}

function toCacheFields(usage: UsagePart): Pick<AnthropicUsage, 'cache_read_input_tokens' | 'cache_creation_input_tokens'> {
  return {
    ...(usage.cacheReadTokens !== undefined && { cache_read_input_tokens: usage.cacheReadTokens }),
    ...(usage.cacheWriteTokens !== undefined && { cache_creation_input_tokens: usage.cacheWriteTokens }),
  };
}

/** One SSE event in Anthropic's framing. JSON.stringify escapes newlines, so one data line always suffices. */
export function formatSse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
