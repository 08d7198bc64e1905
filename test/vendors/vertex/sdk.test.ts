/**
 * The official Vertex SDK against the simulator: if the simulator speaks Vertex the way the SDK
 * expects, both the adapter's tests and the simulator's faults mean something for real traffic.
 */
import { AnthropicVertex } from '@anthropic-ai/vertex-sdk';
import { BadRequestError, RateLimitError } from '@anthropic-ai/vertex-sdk/core/error';
import { OAuth2Client } from 'google-auth-library';
import type { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/index.js';
import { textOf } from '../../../src/domain/index.js';
import { FaultSchema } from '../../../src/simulator/faults.js';
import type { RunningSimulator } from '../../../src/simulator/index.js';
import { createVendorDispatcher } from '../../../src/vendors/http.js';
import { createVertexAdapter } from '../../../src/vendors/vertex/adapter.js';
import { serviceAccountTokens } from '../../../src/vendors/vertex/token.js';
import { simulatorSecrets, startTestSimulator } from '../../helpers/simulator.js';

const VERTEX = 'vertex/us-east5';
const MODEL = 'claude-sonnet-4@20250514';
const PROMPT = 'Which track is fastest today?';

let simulator: RunningSimulator;
let config: Config;
let dispatcher: Agent;
let accessToken: string;

beforeAll(async () => {
  ({ simulator, config } = await startTestSimulator());
  dispatcher = createVendorDispatcher();
  const tokens = serviceAccountTokens({
    source: { vendor: 'vertex', vendorRegion: VERTEX },
    dispatcher,
    tokenUrl: config.vendorRegions[VERTEX]!.tokenUrl,
    readKey: () => Promise.resolve(JSON.stringify(simulator.credentials.serviceAccount)),
  });
  accessToken = await tokens.token();
});

afterEach(() => {
  simulator.simulation.faults.clear();
  simulator.log.clear();
});

afterAll(async () => {
  await dispatcher.close();
  await simulator.close();
});

/**
 * The SDK's `accessToken` option is stored and never used: it always asks a google-auth-library
 * client for headers, and the default one looks for Application Default Credentials. An
 * OAuth2Client holding the token answers without any network call.
 */
function client(options: { version?: string } = {}): AnthropicVertex {
  const authClient = new OAuth2Client();
  authClient.setCredentials({ access_token: accessToken, token_type: 'Bearer', expiry_date: Date.now() + 3_000_000 });
  return new AnthropicVertex({
    // The SDK appends /v1/messages and rewrites that suffix, so its base URL carries the /v1.
    baseURL: `${simulator.endpoints()[VERTEX]!}/v1`,
    region: 'us-east5',
    projectId: 'switchyard-example',
    authClient,
    maxRetries: 0,
    // The SDK copies its anthropic-version header into the body's anthropic_version; only the refusal test overrides it.
    ...(options.version !== undefined && { defaultHeaders: { 'anthropic-version': options.version } }),
  });
}

async function adapterText(): Promise<string> {
  const vendorRegion = config.vendorRegions[VERTEX]!;
  const adapter = createVertexAdapter(vendorRegion, { dispatcher, secrets: simulatorSecrets(simulator) });
  const { response } = await adapter.complete(
    { model: 'claude-sonnet-4', messages: [{ role: 'user', content: [{ type: 'text', text: PROMPT }] }], maxTokens: 256 },
    { deployment: vendorRegion.deployments['claude-sonnet-4']! },
  );
  return textOf(response.content);
}

describe('@anthropic-ai/vertex-sdk against the simulated Vertex', () => {
  it('creates a message: the text the adapter gets, at the path the SDK builds', async () => {
    const message = await client().messages.create({ model: MODEL, max_tokens: 256, messages: [{ role: 'user', content: PROMPT }] });
    const text = message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
    expect(text).toBe(await adapterText());
    expect(message.id).toMatch(/^msg_vrtx_/);
    expect(message.stop_reason).toBe('end_turn');
    expect(simulator.log.list(VERTEX).map((e) => e.path)).toContain(
      '/v1/projects/switchyard-example/locations/us-east5/publishers/anthropic/models/claude-sonnet-4@20250514:rawPredict',
    );
  });

  it('streams a message whose text and usage match the plain answer', async () => {
    const plain = await client().messages.create({ model: MODEL, max_tokens: 256, messages: [{ role: 'user', content: PROMPT }] });
    const stream = client().messages.stream({ model: MODEL, max_tokens: 256, messages: [{ role: 'user', content: PROMPT }] });
    let deltas = 0;
    stream.on('text', () => deltas++);
    const final = await stream.finalMessage();
    expect(final.content).toStrictEqual(plain.content);
    expect(final.usage.output_tokens).toBe(plain.usage.output_tokens);
    expect(deltas).toBeGreaterThan(1);
    expect(simulator.log.list(VERTEX).some((e) => e.path.endsWith(':streamRawPredict'))).toBe(true);
  });

  it('raises a throttle as its RateLimitError', async () => {
    simulator.simulation.faults.add(FaultSchema.parse({ vendorRegion: VERTEX, kind: 'throttle', durationMs: 60_000 }));
    const error: unknown = await client()
      .messages.create({ model: MODEL, max_tokens: 256, messages: [{ role: 'user', content: PROMPT }] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).status).toBe(429);
  });

  it('is refused as Vertex refuses it when anthropic_version is not one Vertex knows', async () => {
    const error: unknown = await client({ version: 'bedrock-2023-05-31' })
      .messages.create({ model: MODEL, max_tokens: 256, messages: [{ role: 'user', content: PROMPT }] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).message).toMatch(/anthropic_version/);
  });
});
