/**
 * The gateway at the HTTP level, as a hostile or careless client meets it: bodies that are wrong,
 * too large or try to choose their own tenant; failures before the first token as real statuses;
 * deadlines; no router; readiness; and a client that leaves mid-stream, whose vendor request must
 * be cancelled.
 */
import { request as httpRequest } from 'node:http';
import { connect } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../src/gateway/index.js';
import { startNatsServer } from '../helpers/nats-server.js';
import { APP_KEY, startGatewayFixture, type GatewayFixture } from './fixture.js';

let fx: GatewayFixture;
beforeAll(async () => {
  fx = await startGatewayFixture();
});
afterAll(async () => fx?.stop());
afterEach(() => fx.clearFaults());

const auth = { authorization: `Bearer ${APP_KEY}`, 'content-type': 'application/json' };
const chat = (extra: object = {}) => ({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }], ...extra });

async function post(path: string, body: unknown, headers: Record<string, string> = auth): Promise<{ status: number; headers: Headers; json: any; text: string }> {
  const response = await fetch(`${fx.gateway.url}${path}`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json, text };
}

describe('bad input gets a 400 naming the field, in the API\'s own shape', () => {
  it.each([
    ['OpenAI, no messages', '/v1/chat/completions', { model: 'gpt-4.1' }, 'messages'],
    ['OpenAI, a typo of max_tokens', '/v1/chat/completions', chat({ max_token: 5 }), 'max_token'],
    ['OpenAI, a tenant in the body', '/v1/chat/completions', chat({ tenant: 'someone-else' }), 'tenant'],
    ['OpenAI, not JSON', '/v1/chat/completions', '{"model":', 'body'],
  ])('%s', async (_name, path, body, field) => {
    const res = await post(path, body);
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ type: 'invalid_request_error' });
    expect(`${res.json.error.param} ${res.json.error.message}`).toContain(field);
  });

  it.each([
    ['no max_tokens', { model: 'claude-sonnet-4', messages: [{ role: 'user', content: 'hi' }] }, 'max_tokens'],
    ['a metadata tenant of its own', { model: 'claude-sonnet-4', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }], metadata: { tenant: 'x' } }, 'metadata'],
  ])('Anthropic, %s', async (_name, body, field) => {
    const res = await post('/v1/messages', body, { 'x-api-key': APP_KEY, 'anthropic-version': '2023-06-01' });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(res.json.error.message).toContain(field);
  });

  it('words a missing field as Anthropic does', async () => {
    const res = await post('/v1/messages', { model: 'claude-sonnet-4', messages: [{ role: 'user', content: 'hi' }] }, { 'x-api-key': APP_KEY });
    expect(res.json.error.message).toBe('max_tokens: Field required');
  });

  it('refuses to start with a key that clashes with one of the config', async () => {
    const clash = { app: { ...fx.config.gateway.apiKeys.app!, tenant: 'translation-worker' } };
    const nc = await connect({ servers: fx.nats.url });
    try {
      await expect(startGateway({ connection: nc, config: fx.config, extraKeys: clash })).rejects.toThrow(/API key "app" clashes with key "app"/);
    } finally {
      await nc.close();
    }
  });

  it('refuses a body over the limit with 413 before reading it all', async () => {
    const res = await post('/v1/chat/completions', chat({ messages: [{ role: 'user', content: 'x'.repeat(5 * 1024 * 1024) }] }));
    expect(res.status).toBe(413);
    expect(res.json.error.code).toBe('request_too_large');
  });

  it('answers an unknown model 404 and an unknown route 404, and a missing key 401 before reading the body', async () => {
    const model = await post('/v1/chat/completions', chat({ model: 'gpt-9' }));
    expect(model.status).toBe(404);
    expect(model.json.error).toMatchObject({ code: 'model_not_found', param: 'model' });
    const route = await fetch(`${fx.gateway.url}/v2/anything`);
    expect(route.status).toBe(404);
    // A name every object inherits is no model either.
    expect((await post('/v1/chat/completions', chat({ model: 'constructor' }))).status).toBe(404);
    const method = await fetch(`${fx.gateway.url}/v1/messages`, { headers: { 'x-api-key': APP_KEY } });
    expect(method.status).toBe(405);
    expect(method.headers.get('allow')).toBe('POST');
    const anonymous = await post('/v1/chat/completions', chat(), { 'content-type': 'application/json' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.json.error.code).toBe('missing_api_key');
  });

  it('lets a header choose only a use case the key allows, and a priority from the list', async () => {
    const other = await post('/v1/chat/completions', chat(), { ...auth, 'x-switchyard-use-case': 'sy.req.>' });
    expect(other.status).toBe(403);
    const priority = await post('/v1/chat/completions', chat(), { ...auth, 'x-switchyard-priority': 'urgent' });
    expect(priority.status).toBe(400);
    expect(priority.json.error.param).toBe('x-switchyard-priority');
    const allowed = await post('/v1/chat/completions', chat(), { ...auth, 'x-switchyard-use-case': 'conversation_serving', 'x-switchyard-priority': 'critical' });
    expect(allowed.status).toBe(200);
  });
});

describe('failures are statuses until the first token', () => {
  it('a stream that fails before its first token gets a real status, not a 200 and an error event', async () => {
    fx.fault({ vendorRegion: 'openai', model: 'tiny', kind: 'outage', mode: '500' });
    const res = await post('/v1/chat/completions', { model: 'tiny', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.json.error.type).toBe('server_error');
  });

  it('a deadline that passes gets 504', async () => {
    for (const vendorRegion of ['openai', 'azure/eastus']) fx.fault({ vendorRegion, model: 'gpt-4.1-mini', kind: 'hang' });
    const res = await post('/v1/messages', { model: 'gpt-4.1-mini', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }, { 'x-api-key': APP_KEY, 'x-switchyard-deadline-ms': '300' });
    expect(res.status).toBe(504);
    expect(res.json.error.type).toBe('timeout_error');
    expect(res.headers.get('x-switchyard-error')).toBe('deadline_exceeded');
    // The SDKs would otherwise try twice more, tripling the caller's deadline.
    expect(res.headers.get('x-should-retry')).toBe('false');
  });
});

describe('liveness, readiness and a fleet with no router', () => {
  it('is live and ready beside a router; with no router it is not ready and answers 503', async () => {
    expect((await fetch(`${fx.gateway.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${fx.gateway.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, routers: 'answering' });

    const empty = await startNatsServer();
    const nc = await connect({ servers: empty.url });
    const lonely = await startGateway({ connection: nc, config: fx.config });
    try {
      const notReady = await fetch(`${lonely.url}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toMatchObject({ ready: false, nats: 'connected', routers: 'none answered' });
      const res = await fetch(`${lonely.url}/v1/chat/completions`, { method: 'POST', headers: auth, body: JSON.stringify(chat()) });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('router_unavailable');
    } finally {
      await lonely.close();
      await nc.close();
      await empty.stop();
    }
  });
});

describe('a client that leaves', () => {
  it('cancels its vendor request upstream when it disconnects mid-stream', async () => {
    for (const vendorRegion of ['openai', 'azure/eastus']) fx.fault({ vendorRegion, model: 'gpt-4.1', kind: 'drip', intervalMs: 100 });
    const closed = () => Object.values(fx.simulator.simulation.stats.snapshot()).reduce((sum, s) => sum + s.closedByClient, 0);
    const before = closed();
    const body = JSON.stringify(chat({ stream: true, messages: [{ role: 'user', content: 'a long, slow answer' }] }));
    const { deployment, leftAt } = await new Promise<{ deployment: string; leftAt: number }>((resolve, reject) => {
      const req = httpRequest(`${fx.gateway.url}/v1/chat/completions`, { method: 'POST', headers: auth }, (res) => {
        res.once('data', () => {
          const leftAt = Date.now();
          req.destroy();
          resolve({ deployment: String(res.headers['x-switchyard-deployment']), leftAt });
        });
      });
      req.on('error', (error) => (error.message.includes('aborted') || (error as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(error)));
      req.end(body);
    });
    await expect.poll(closed, { timeout: 5_000 }).toBeGreaterThan(before);
    const stats = fx.simulator.simulation.stats.snapshot()[deployment];
    expect(stats?.closedByClient).toBeGreaterThan(0);
    // The figure, for the record; bench/ holds the timing claims.
    console.info(`gateway disconnect reached the vendor after ${(stats?.lastClosedByClientAt ?? 0) - leftAt} ms`);
  });
});
