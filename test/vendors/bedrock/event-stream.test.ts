import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  MalformedFrameError,
  bedrockMessages,
  chunkFrame,
  decodeFrame,
  encodeFrame,
  exceptionFrame,
  readBedrockMessage,
  splitFrames,
  type BedrockStreamMessage,
} from '../../../src/vendors/bedrock/event-stream.js';

function fixture(name: string): Buffer {
  return readFileSync(new URL(`../../fixtures/bedrock/${name}`, import.meta.url));
}

// Frames in AWS event-stream encoding (prelude, headers, payload, CRCs), written out in base64.
const EXAMPLE_1_CHUNK =
  'AAAA6AAAAEuciMtvCzpldmVudC10eXBlBwAFY2h1bmsNOmNvbnRlbnQtdHlwZQcAEGFwcGxpY2F0aW9uL2pzb24NOm1lc3NhZ2UtdHlwZQcABWV2ZW50eyJieXRlcyI6ImV5SjBlWEJsSWpvaVkyOXVkR1Z1ZEY5aWJHOWphMTlrWld4MFlTSXNJbWx1WkdWNElqb3dMQ0prWld4MFlTSTZleUowZVhCbElqb2lkR1Y0ZEY5a1pXeDBZU0lzSW5SbGVIUWlPaUpJYVNKOWZRPT0iLCJwIjoiYWJjZGVmZ2hpaiJ9zxxn7g==';
const EXAMPLE_2_THROTTLING =
  'AAAAsgAAAGE1kNXTDzpleGNlcHRpb24tdHlwZQcAE3Rocm90dGxpbmdFeGNlcHRpb24NOmNvbnRlbnQtdHlwZQcAEGFwcGxpY2F0aW9uL2pzb24NOm1lc3NhZ2UtdHlwZQcACWV4Y2VwdGlvbnsibWVzc2FnZSI6IlRvbyBtYW55IHJlcXVlc3RzLCBwbGVhc2Ugd2FpdCBiZWZvcmUgdHJ5aW5nIGFnYWluLiJ96P+yag==';
const EXAMPLE_4_CONVERSE =
  'AAAAnwAAAFfDe6v/CzpldmVudC10eXBlBwARY29udGVudEJsb2NrRGVsdGENOmNvbnRlbnQtdHlwZQcAEGFwcGxpY2F0aW9uL2pzb24NOm1lc3NhZ2UtdHlwZQcABWV2ZW50eyJjb250ZW50QmxvY2tJbmRleCI6MCwiZGVsdGEiOnsidGV4dCI6IkhpIn0sInAiOiJhYmNkIn3yrOX/';

const HI_DELTA = '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}';

/** The events of stream-text.bin with their padding: the fixture is exactly these, encoded. */
const STREAM_TEXT: [unknown, string][] = [
  [
    {
      type: 'message_start',
      message: { id: 'msg_bdrk_01HzQ8v3x', type: 'message', role: 'assistant', model: 'claude-sonnet-4-20250514', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 14, output_tokens: 1 } },
    },
    'abcdefghijklmnopqrstu',
  ],
  [{ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }, 'abcdefghijklmnopqrstuvwxyzABCDEF'],
  [{ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi' } }, 'abcdefghij'],
  [{ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: ' there!' } }, 'abcdefghijklmn'],
  [{ type: 'content_block_stop', index: 0 }, 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0'],
  [{ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 4 } }, 'abcdefgh'],
  [
    { type: 'message_stop', 'amazon-bedrock-invocationMetrics': { inputTokenCount: 14, outputTokenCount: 4, invocationLatency: 926, firstByteLatency: 300 } },
    'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP',
  ],
];

/** A body delivered in exactly these reads. */
function chunks(...parts: Uint8Array[]): AsyncIterable<Uint8Array> {
  return Readable.from(parts);
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

function thrownBy(work: () => unknown): Error {
  try {
    work();
  } catch (error) {
    if (error instanceof Error) return error;
  }
  throw new Error('expected it to throw an Error');
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

describe('the encoder', () => {
  it('writes example 1 of section 4.5 byte for byte: a chunk with padding "abcdefghij"', () => {
    const frame = chunkFrame(HI_DELTA, 'abcdefghij');
    expect(frame.length).toBe(232);
    expect(Buffer.from(frame.subarray(0, 12)).toString('hex')).toBe('000000e80000004b9c88cb6f');
    expect(b64(frame)).toBe(EXAMPLE_1_CHUNK);
  });

  it('writes example 2 of section 4.5 byte for byte: a throttlingException frame', () => {
    const frame = exceptionFrame('throttlingException', 'Too many requests, please wait before trying again.');
    expect(frame.length).toBe(178);
    expect(b64(frame)).toBe(EXAMPLE_2_THROTTLING);
    expect(Buffer.from(frame).equals(fixture('exception-throttling.bin'))).toBe(true);
  });

  it('writes example 4 of section 4.5 (a ConverseStream frame) from its headers and payload', () => {
    const frame = encodeFrame(
      { ':event-type': 'contentBlockDelta', ':content-type': 'application/json', ':message-type': 'event' },
      '{"contentBlockIndex":0,"delta":{"text":"Hi"},"p":"abcd"}',
    );
    expect(b64(frame)).toBe(EXAMPLE_4_CONVERSE);
  });

  it('reproduces the recorded stream-text.bin, whose third frame is example 1', () => {
    const recorded = fixture('stream-text.bin');
    const frames = STREAM_TEXT.map(([json, padding]) => chunkFrame(JSON.stringify(json), padding));
    expect(Buffer.concat(frames).equals(recorded)).toBe(true);
    expect(b64(frames[2]!)).toBe(EXAMPLE_1_CHUNK);
  });
});

describe('reading frames', () => {
  it('reads the recorded stream as chunks carrying the Anthropic events, metrics on message_stop', async () => {
    const messages = await collect(bedrockMessages(chunks(fixture('stream-text.bin'))));
    expect(messages.map((m) => m.kind)).toEqual(Array(7).fill('chunk'));
    const events = messages.map((m) => (m.kind === 'chunk' ? (JSON.parse(m.json) as unknown) : undefined));
    expect(events).toEqual(STREAM_TEXT.map(([json]) => json));
  });

  it('reads the captured modelStreamErrorException frame (example 3) and the throttling frame', () => {
    expect(readBedrockMessage(fixture('exception-model-stream-error.bin'))).toEqual({ kind: 'exception', type: 'modelStreamErrorException', message: 'Model Stream Error' });
    expect(readBedrockMessage(fixture('exception-throttling.bin'))).toEqual({
      kind: 'exception',
      type: 'throttlingException',
      message: 'Too many requests, please wait before trying again.',
    });
    const decoded = decodeFrame(fixture('exception-model-stream-error.bin'));
    expect(JSON.parse(Buffer.from(decoded.payload).toString('utf8'))).toEqual({ message: 'Model Stream Error', originalStatusCode: 500, originalMessage: 'The model stream failed.' });
  });

  it('reads an unmodelled error frame by its :error-code, and skips event types it does not know', () => {
    const error = encodeFrame({ ':message-type': 'error', ':error-code': 'InternalFailure', ':error-message': 'boom' }, '');
    expect(readBedrockMessage(error)).toEqual({ kind: 'error', code: 'InternalFailure', message: 'boom' });
    expect(readBedrockMessage(Buffer.from(EXAMPLE_4_CONVERSE, 'base64'))).toEqual({ kind: 'other', eventType: 'contentBlockDelta' });
  });

  it('splits the stream identically wherever the body is cut into two reads', async () => {
    const whole = fixture('stream-text.bin');
    const expected = (await collect(splitFrames(chunks(whole)))).map(b64);
    expect(expected).toHaveLength(7);
    for (let at = 0; at <= whole.length; at++) {
      const frames = await collect(splitFrames(chunks(whole.subarray(0, at), whole.subarray(at))));
      expect(frames.map(b64), `cut at byte ${at}`).toEqual(expected);
    }
  });

  it('splits the stream one byte per read, and several frames in one read', async () => {
    const whole = fixture('stream-text.bin');
    const bytes = Array.from(whole, (b) => Uint8Array.of(b));
    const oneByOne = await collect(bedrockMessages(chunks(...bytes)));
    const together = await collect(bedrockMessages(chunks(Buffer.concat([whole, fixture('exception-throttling.bin')]))));
    expect(oneByOne).toHaveLength(7);
    expect(together.slice(0, 7)).toEqual(oneByOne);
    expect(together[7]).toMatchObject<Partial<BedrockStreamMessage>>({ kind: 'exception', type: 'throttlingException' });
  });
});

describe('broken frames', () => {
  it('throws MalformedFrameError with an excerpt for a bad message CRC', () => {
    const frame = Buffer.from(EXAMPLE_1_CHUNK, 'base64');
    frame[frame.length - 1] = (frame[frame.length - 1] ?? 0) ^ 0xff;
    const error = thrownBy(() => readBedrockMessage(frame));
    expect(error).toBeInstanceOf(MalformedFrameError);
    expect(error.message).toMatch(/checksum/);
    expect((error as MalformedFrameError).excerpt).toContain(':event-type');
  });

  it('throws MalformedFrameError for a bad prelude CRC and for a changed payload byte', () => {
    const prelude = Buffer.from(EXAMPLE_1_CHUNK, 'base64');
    prelude[9] = (prelude[9] ?? 0) ^ 0x01;
    expect(() => readBedrockMessage(prelude)).toThrow(/prelude checksum/);
    const payload = Buffer.from(EXAMPLE_1_CHUNK, 'base64');
    payload[120] = (payload[120] ?? 0) ^ 0x01;
    expect(() => readBedrockMessage(payload)).toThrow(MalformedFrameError);
  });

  it('throws MalformedFrameError when the body ends inside a frame or inside the length', async () => {
    const whole = fixture('stream-text.bin');
    await expect(collect(splitFrames(chunks(whole.subarray(0, whole.length - 5))))).rejects.toThrow(/Truncated event message/);
    await expect(collect(splitFrames(chunks(whole.subarray(0, 2))))).rejects.toBeInstanceOf(MalformedFrameError);
  });

  it('refuses a frame length that cannot be a frame instead of waiting for it', async () => {
    await expect(collect(splitFrames(chunks(Uint8Array.of(0, 0, 0, 5, 1, 2, 3, 4))))).rejects.toThrow(/outside/);
    await expect(collect(splitFrames(chunks(Uint8Array.of(0xff, 0xff, 0xff, 0xff))))).rejects.toThrow(MalformedFrameError);
  });

  it('refuses a chunk without base64 bytes and an unknown :message-type', () => {
    const noBytes = encodeFrame({ ':event-type': 'chunk', ':content-type': 'application/json', ':message-type': 'event' }, '{"p":"abc"}');
    expect(() => readBedrockMessage(noBytes)).toThrow(/bytes/);
    const strange = encodeFrame({ ':message-type': 'gossip' }, '{}');
    expect(() => readBedrockMessage(strange)).toThrow(/message-type/);
  });
});
