/**
 * The simulated Bedrock Runtime for Anthropic models:
 * SigV4 checked as AWS checks it, `POST /model/{id}/invoke` answering Anthropic JSON with the
 * x-amzn-bedrock-* headers, and `/invoke-with-response-stream` answering event-stream frames.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { fromAnthropicRequest, toAnthropicResponse } from '../../vendors/anthropic/translate.js';
import { AnthropicStreamEncoder } from '../../vendors/anthropic/stream.js';
import { AnthropicRequestSchema } from '../../vendors/anthropic/wire.js';
import { chunkFrame, exceptionFrame, type StreamExceptionType } from '../../vendors/bedrock/event-stream.js';
import { verifySigV4 } from '../../vendors/bedrock/sigv4.js';
import type { Refusal, SimCall, SimStep } from '../engine.js';
import { hashText, seededRandom } from '../random.js';
import {
  answerRefusal,
  deploymentByVendorModelId,
  parseJson,
  playStream,
  sendJson,
  track,
  type ProtocolHandler,
  type StreamWriter,
} from '../protocol.js';

const ROUTE = /^\/model\/([^/]+)\/(invoke|invoke-with-response-stream)$/;

/** The suffix real Bedrock appends to every error name in `x-amzn-ErrorType`. */
const ERROR_TYPE_SUFFIX = ':http://internal.amazon.com/coral/com.amazon.bedrock/';

/** Bedrock's body: Anthropic's without `model` and `stream`, which it refuses as extraneous keys. */
const BedrockBodySchema = AnthropicRequestSchema.omit({ model: true, stream: true });

const STREAM_ERRORS: Record<Extract<SimStep, { type: 'stream_error' }>['error'], { type: StreamExceptionType; message: string }> = {
  overloaded: { type: 'serviceUnavailableException', message: 'Bedrock is unable to process your request.' },
  server_error: { type: 'internalServerException', message: 'The system encountered an unexpected error during processing. Try your request again.' },
  rate_limited: { type: 'throttlingException', message: 'Too many requests, please wait before trying again.' },
};

const PADDING_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export function bedrockError(res: ServerResponse, status: number, name: string, message: string): void {
  sendJson(res, status, { message }, { 'x-amzn-ErrorType': `${name}${ERROR_TYPE_SUFFIX}`, 'x-amzn-RequestId': randomUUID() });
}

export const bedrockProtocol: ProtocolHandler = async (exchange) => {
  const { req, res, vendorRegion, sim, credentials } = exchange;
  const startedAt = Date.now();
  // The signature covers the path exactly as sent, so it is taken raw, before any URL parsing.
  const [rawPath = '/', rawQuery = ''] = (req.url ?? '/').split('?', 2);
  // Over HTTP/2 (the AWS SDK's default for Bedrock) the signed `host` arrives as `:authority`.
  const headers = { host: req.headers[':authority'], ...req.headers };
  const verdict = verifySigV4(
    { method: req.method ?? 'GET', path: rawPath, query: rawQuery, headers, body: exchange.body },
    credentials.aws,
    startedAt,
    { region: vendorRegion.region },
  );
  if (!verdict.ok) return bedrockError(res, 403, verdict.error, verdict.reason);

  const route = ROUTE.exec(rawPath);
  if (req.method !== 'POST' || !route) return bedrockError(res, 404, 'UnknownOperationException', `Unknown operation: ${req.method ?? ''} ${rawPath}`);
  const modelId = safeDecode(route[1] ?? '');
  const streaming = route[2] === 'invoke-with-response-stream';
  const deployment = modelId === undefined ? undefined : deploymentByVendorModelId(vendorRegion, modelId);
  if (!deployment) return bedrockError(res, 404, 'ResourceNotFoundException', `The requested model ${modelId ?? route[1] ?? ''} was not found.`);

  const json = parseJson(exchange.body);
  if (!json.ok) return malformedInput(res, `body is not JSON: ${json.error}`);
  // Required, but any value: the Anthropic Bedrock SDK 1.x copies its first-party version header
  // (e.g. 2026-10-21) into the body rather than sending bedrock-2023-05-31.
  if (typeof json.value !== 'object' || json.value === null || !('anthropic_version' in json.value)) {
    return malformedInput(res, '#: required key [anthropic_version] not found');
  }
  const parsed = BedrockBodySchema.safeParse(json.value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return malformedInput(res, `#/${issue?.path.join('/') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }

  const call = sim.begin(vendorRegion, deployment, fromAnthropicRequest({ ...parsed.data, model: deployment.vendorModelId }));
  track(exchange, call);
  if (call.refusal) return answerRefusal(exchange, call.refusal, (r) => writeBedrockRefusal(res, r));
  const requestId = randomUUID();

  if (!streaming) {
    const result = await call.complete(exchange.clientGone);
    if (exchange.clientGone.aborted) return;
    if ('broken' in result) return writeBrokenAnswer(res, result.broken, requestId);
    const body = { ...toAnthropicResponse(result.response), id: `msg_bdrk_${call.id}` };
    return sendJson(res, 200, body, {
      'x-amzn-requestid': requestId,
      'x-amzn-bedrock-invocation-latency': Date.now() - startedAt,
      'x-amzn-bedrock-input-token-count': body.usage.input_tokens,
      'x-amzn-bedrock-output-token-count': body.usage.output_tokens,
    });
  }
  res.writeHead(200, {
    'content-type': 'application/vnd.amazon.eventstream',
    'x-amzn-requestid': requestId,
    'x-amzn-bedrock-content-type': 'application/json',
  });
  await playStream(exchange, call, bedrockStreamWriter(res, call, startedAt));
};

function malformedInput(res: ServerResponse, what: string): void {
  bedrockError(res, 400, 'ValidationException', `Malformed input request: ${what}, please reformat your input and try again.`);
}

function safeDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/**
 * Bedrock sends no retry-after (the captured 429 of section 4.4 has none; the AWS SDK backs off on
 * its own), so neither does the simulator: quota and throttle refusals are the same ThrottlingException.
 */
function writeBedrockRefusal(res: ServerResponse, refusal: Exclude<Refusal, { kind: 'hang' }>): void {
  switch (refusal.kind) {
    case 'rate_limited':
      return bedrockError(res, 429, 'ThrottlingException', `Too many ${refusal.limit === 'tpm' ? 'tokens' : 'requests'}, please wait before trying again.`);
    case 'throttled':
      return bedrockError(res, 429, 'ThrottlingException', 'Too many requests, please wait before trying again.');
    case 'overloaded':
      return bedrockError(res, 503, 'ServiceUnavailableException', 'Bedrock is unable to process your request.');
    case 'unavailable':
      return refusal.status === 500
        ? bedrockError(res, 500, 'InternalServerException', 'The system encountered an unexpected error during processing. Try your request again.')
        : bedrockError(res, 503, 'ServiceUnavailableException', 'Service Unavailable');
  }
}

/** A plain answer spoiled by a fault: cut half-way through the body, or JSON that stops mid-value. */
function writeBrokenAnswer(res: ServerResponse, broken: 'cut' | 'malformed', requestId: string): void {
  const text = '{"id":"msg_bdrk_sim","type":"message","role":"assistant","content":[{"type":"text","text":"Switchyard routes';
  if (broken === 'malformed') {
    res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': requestId }).end(text);
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) * 2, 'x-amzn-requestid': requestId });
  res.write(text, () => res.destroy());
}

/**
 * Each canonical event re-encoded as Anthropic stream JSON, base64 in a chunk frame with padding,
 * and the invocation metrics on message_stop as Bedrock adds them.
 */
function bedrockStreamWriter(res: ServerResponse, call: SimCall, startedAt: number): StreamWriter {
  const encoder = new AnthropicStreamEncoder();
  const random = seededRandom(hashText(call.id));
  const padding = () => PADDING_ALPHABET.slice(0, 1 + Math.floor(random() * (PADDING_ALPHABET.length - 1)));
  let inputTokens = 0;
  let outputTokens = 0;
  let firstByteAt: number | undefined;
  return {
    event(event) {
      if (event.type === 'usage') {
        inputTokens = event.usage.inputTokens ?? inputTokens;
        outputTokens = event.usage.outputTokens ?? outputTokens;
      }
      for (const out of encoder.encode(event)) {
        firstByteAt ??= Date.now();
        const data =
          out.data.type === 'message_stop'
            ? {
                ...out.data,
                'amazon-bedrock-invocationMetrics': {
                  inputTokenCount: inputTokens,
                  outputTokenCount: outputTokens,
                  invocationLatency: Date.now() - startedAt,
                  firstByteLatency: firstByteAt - startedAt,
                },
              }
            : out.data;
        res.write(chunkFrame(JSON.stringify(data), padding()));
      }
    },
    malformed() {
      const frame = chunkFrame(JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: ' track' } }), padding());
      // Flipping the last byte spoils the message CRC while the lengths still add up.
      frame[frame.length - 1] = (frame[frame.length - 1] ?? 0) ^ 0xff;
      res.write(frame);
    },
    streamError(error) {
      const { type, message } = STREAM_ERRORS[error];
      res.write(exceptionFrame(type, message));
    },
  };
}
