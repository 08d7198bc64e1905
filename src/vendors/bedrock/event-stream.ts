/**
 * The binary `application/vnd.amazon.eventstream` framing of InvokeModelWithResponseStream
 *: whole frames cut out of arbitrary body chunks, checked and
 * decoded with @smithy's codec, read as Bedrock messages; and the encoder the simulator writes with.
 */
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';

/** Prelude (12 bytes) plus the message CRC: a frame with no headers and no payload. */
export const MIN_FRAME_BYTES = 16;
/** Bedrock chunks are small; a length this large is a corrupt prelude, not a frame to wait for. */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

const EXCERPT_BYTES = 120;

const codec = new EventStreamCodec(toUtf8, fromUtf8);

/** A frame that cannot be read: bad length, bad CRC, cut short, or not the shape Bedrock sends. */
export class MalformedFrameError extends Error {
  /** The start of the offending bytes, printable characters kept, for logs. */
  readonly excerpt: string;

  constructor(message: string, bytes: Uint8Array, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MalformedFrameError';
    this.excerpt = printable(bytes);
  }
}

function printable(bytes: Uint8Array): string {
  return Buffer.from(bytes.subarray(0, EXCERPT_BYTES)).toString('latin1').replace(/[^\x20-\x7e]/g, '.');
}

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/**
 * Whole frames from body chunks: a read may hold part of a frame or several, so bytes are kept
 * until the prelude's total length has arrived. A body that ends inside a frame is truncated.
 */
export async function* splitFrames(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of body) {
    pending = pending.length === 0 ? asBuffer(chunk) : Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const total = pending.readUInt32BE(0);
      if (total < MIN_FRAME_BYTES || total > MAX_FRAME_BYTES) {
        throw new MalformedFrameError(`event-stream frame length ${total} is outside ${MIN_FRAME_BYTES}..${MAX_FRAME_BYTES}`, pending);
      }
      if (pending.length < total) break;
      yield pending.subarray(0, total);
      pending = pending.subarray(total);
    }
  }
  if (pending.length > 0) {
    const expected = pending.length >= 4 ? pending.readUInt32BE(0) : undefined;
    throw new MalformedFrameError(`Truncated event message: ${pending.length} of ${expected ?? 'at least 4'} bytes before the body ended`, pending);
  }
}

/** One decoded frame; Bedrock sends only string headers, so others are turned into text. */
export interface EventStreamMessage {
  headers: Record<string, string>;
  payload: Uint8Array;
}

export function decodeFrame(frame: Uint8Array): EventStreamMessage {
  let message;
  try {
    message = codec.decode(frame);
  } catch (cause) {
    // The codec checks both CRCs and the lengths; its messages name which failed.
    throw new MalformedFrameError(`bad event-stream frame: ${cause instanceof Error ? cause.message : String(cause)}`, frame, { cause });
  }
  const headers: Record<string, string> = {};
  for (const [name, header] of Object.entries(message.headers)) headers[name] = String(header.value);
  return { headers, payload: message.body };
}

export function encodeFrame(headers: Record<string, string>, payload: Uint8Array | string): Uint8Array {
  const tagged = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, { type: 'string' as const, value }]));
  return codec.encode({ headers: tagged, body: typeof payload === 'string' ? fromUtf8(payload) : payload });
}

// ------------------------------------------------------------------------------- Bedrock messages

/** The exceptions InvokeModelWithResponseStream documents inside a stream, as `:exception-type` spells them. */
export const STREAM_EXCEPTION_TYPES = [
  'internalServerException',
  'modelStreamErrorException',
  'modelTimeoutException',
  'serviceUnavailableException',
  'throttlingException',
  'validationException',
] as const;
export type StreamExceptionType = (typeof STREAM_EXCEPTION_TYPES)[number];

/** What one frame of a Bedrock response stream says. */
export type BedrockStreamMessage =
  /** One Anthropic stream event, as JSON text. */
  | { kind: 'chunk'; json: string }
  /** A modelled error (`:message-type: exception`), lowerCamelCase as sent. */
  | { kind: 'exception'; type: string; message: string }
  /** An unmodelled error (`:message-type: error`). */
  | { kind: 'error'; code: string; message: string }
  /** An event type newer than this reader: skipped, as the SDKs skip them. */
  | { kind: 'other'; eventType: string };

export function readBedrockMessage(frame: Uint8Array): BedrockStreamMessage {
  const { headers, payload } = decodeFrame(frame);
  const messageType = headers[':message-type'];
  switch (messageType) {
    case 'event': {
      const eventType = headers[':event-type'] ?? '';
      if (eventType !== 'chunk') return { kind: 'other', eventType };
      const bytes = jsonField(payload, 'bytes');
      if (bytes === undefined) throw new MalformedFrameError('chunk payload is not JSON with a base64 "bytes" field', frame);
      return { kind: 'chunk', json: Buffer.from(bytes, 'base64').toString('utf8') };
    }
    case 'exception': {
      const type = headers[':exception-type'] ?? 'unknownException';
      return { kind: 'exception', type, message: jsonField(payload, 'message') ?? jsonField(payload, 'Message') ?? (toUtf8(payload) || type) };
    }
    case 'error': {
      const code = headers[':error-code'] ?? 'UnknownError';
      return { kind: 'error', code, message: headers[':error-message'] ?? code };
    }
    case undefined:
    default:
      throw new MalformedFrameError(`event-stream frame with :message-type ${JSON.stringify(messageType ?? null)}`, frame);
  }
}

/** Every Bedrock message of a response body, in order. */
export async function* bedrockMessages(body: AsyncIterable<Uint8Array>): AsyncGenerator<BedrockStreamMessage> {
  for await (const frame of splitFrames(body)) yield readBedrockMessage(frame);
}

function jsonField(payload: Uint8Array, field: string): string | undefined {
  try {
    const json: unknown = JSON.parse(toUtf8(payload));
    if (typeof json !== 'object' || json === null) return undefined;
    const value: unknown = (json as Record<string, unknown>)[field];
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A chunk carrying one Anthropic stream event. `p` is Bedrock's random-length padding against
 * traffic-size analysis; readers ignore it. Header order follows the captured frames.
 */
export function chunkFrame(anthropicEventJson: string, padding: string): Uint8Array {
  const payload = JSON.stringify({ bytes: Buffer.from(anthropicEventJson, 'utf8').toString('base64'), p: padding });
  return encodeFrame({ ':event-type': 'chunk', ':content-type': 'application/json', ':message-type': 'event' }, payload);
}

/** A modelled in-stream error; `extra` carries fields such as modelStreamErrorException's `originalStatusCode`. */
export function exceptionFrame(type: StreamExceptionType, message: string, extra: Record<string, unknown> = {}): Uint8Array {
  return encodeFrame(
    { ':exception-type': type, ':content-type': 'application/json', ':message-type': 'exception' },
    JSON.stringify({ message, ...extra }),
  );
}
