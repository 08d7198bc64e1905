/**
 * The simulated Bedrock must satisfy the official clients, not only our adapter: the AWS SDK
 * (its own SigV4, event-stream and error deserialisers) and Anthropic's Bedrock SDK (which
 * re-frames the event stream as SSE). Only their public options are used.
 */
import AnthropicBedrock from '@anthropic-ai/bedrock-sdk';
import { RateLimitError } from '@anthropic-ai/sdk';
import {
  BedrockRuntimeClient,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
  ThrottlingException,
} from '@aws-sdk/client-bedrock-runtime';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fullAnswerTokens, type RunningSimulator } from '../../../src/simulator/index.js';
import { FaultSchema } from '../../../src/simulator/faults.js';
import { fromAnthropicRequest } from '../../../src/vendors/anthropic/translate.js';
import { startTestSimulator } from '../../helpers/simulator.js';

const VENDOR_REGION = 'bedrock/us-east-1';
const MODEL_ID = 'us.anthropic.claude-sonnet-4-20250514-v1:0';
const MESSAGES = [{ role: 'user' as const, content: 'Which track is fastest today?' }];
const BODY = { anthropic_version: 'bedrock-2023-05-31', max_tokens: 256, messages: MESSAGES };

describe('official SDKs against the simulated Bedrock', () => {
  let simulator: RunningSimulator;
  let baseUrl: string;
  let expectedText: string;

  const throttle = () => simulator.simulation.faults.add(FaultSchema.parse({ vendorRegion: VENDOR_REGION, kind: 'throttle', durationMs: 60_000 }));

  beforeAll(async () => {
    const started = await startTestSimulator();
    simulator = started.simulator;
    baseUrl = started.config.vendorRegions[VENDOR_REGION]!.baseUrl;
    expectedText = fullAnswerTokens(fromAnthropicRequest({ ...BODY, model: MODEL_ID }), simulator.simulation.seed).join('');
  });

  afterEach(() => simulator.simulation.faults.clear());

  afterAll(async () => {
    await simulator.close();
  });

  describe('@aws-sdk/client-bedrock-runtime', () => {
    let client: BedrockRuntimeClient;

    beforeAll(() => {
      client = new BedrockRuntimeClient({
        endpoint: baseUrl,
        region: 'us-east-1',
        credentials: simulator.credentials.aws,
        maxAttempts: 1,
      });
    });

    afterAll(() => client.destroy());

    it('InvokeModel returns the Anthropic message with the deterministic text', async () => {
      const output = await client.send(
        new InvokeModelCommand({ modelId: MODEL_ID, contentType: 'application/json', accept: 'application/json', body: JSON.stringify(BODY) }),
      );
      const message = JSON.parse(new TextDecoder().decode(output.body)) as { id: string; content: { type: string; text: string }[] };
      expect(message.content).toEqual([{ type: 'text', text: expectedText }]);
      expect(message.id).toMatch(/^msg_bdrk_/);
      expect(output.contentType).toBe('application/json');
    });

    it('InvokeModelWithResponseStream yields chunks whose deltas spell the same text, metrics on message_stop', async () => {
      const output = await client.send(new InvokeModelWithResponseStreamCommand({ modelId: MODEL_ID, contentType: 'application/json', body: JSON.stringify(BODY) }));
      const events: Record<string, unknown>[] = [];
      for await (const part of output.body ?? []) {
        if (part.chunk?.bytes) events.push(JSON.parse(new TextDecoder().decode(part.chunk.bytes)) as Record<string, unknown>);
      }
      const text = events
        .filter((e) => e.type === 'content_block_delta')
        .map((e) => (e.delta as { text?: string }).text ?? '')
        .join('');
      expect(text).toBe(expectedText);
      expect(events.at(-1)).toMatchObject({ type: 'message_stop', 'amazon-bedrock-invocationMetrics': { outputTokenCount: expect.any(Number) } });
    });

    it('surfaces the simulated 429 as ThrottlingException', async () => {
      throttle();
      const error: unknown = await client.send(new InvokeModelCommand({ modelId: MODEL_ID, contentType: 'application/json', body: JSON.stringify(BODY) })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ThrottlingException);
      expect((error as ThrottlingException).$metadata.httpStatusCode).toBe(429);
      expect((error as ThrottlingException).message).toContain('Too many requests');
    });
  });

  describe('@anthropic-ai/bedrock-sdk', () => {
    let client: AnthropicBedrock;

    beforeAll(() => {
      client = new AnthropicBedrock({
        baseURL: baseUrl,
        awsRegion: 'us-east-1',
        awsAccessKey: simulator.credentials.aws.accessKeyId,
        awsSecretKey: simulator.credentials.aws.secretAccessKey,
        // null: sign with the keys even if AWS_BEARER_TOKEN_BEDROCK happens to be set.
        apiKey: null,
        maxRetries: 0,
      });
    });

    it('messages.create returns the deterministic text', async () => {
      const message = await client.messages.create({ model: MODEL_ID, max_tokens: 256, messages: MESSAGES });
      expect(message.content).toEqual([{ type: 'text', text: expectedText }]);
      expect(message.stop_reason).toBe('end_turn');
    });

    it('streams the same text through its event-stream to SSE re-framing', async () => {
      const stream = await client.messages.create({ model: MODEL_ID, max_tokens: 256, messages: MESSAGES, stream: true });
      const types: string[] = [];
      let text = '';
      for await (const event of stream) {
        types.push(event.type);
        if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
      }
      expect(text).toBe(expectedText);
      expect(types[0]).toBe('message_start');
      expect(types.at(-1)).toBe('message_stop');
    });

    it('raises the simulated 429 as RateLimitError', async () => {
      throttle();
      const error: unknown = await client.messages.create({ model: MODEL_ID, max_tokens: 256, messages: MESSAGES }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RateLimitError);
      expect((error as RateLimitError).status).toBe(429);
    });
  });
});
